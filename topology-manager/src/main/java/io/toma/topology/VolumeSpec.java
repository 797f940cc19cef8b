package io.toma.topology;

import io.toma.kernel.Names;
import io.toma.persistence.CborSerializable;
import java.util.Optional;
import java.util.regex.Pattern;

/** What a caller asks for: a named volume of a size and layout. */
public record VolumeSpec(String name, long sizeBytes, Layout layout) implements CborSerializable {

  public static final long MIB = 1024L * 1024L;
  public static final long GIB = 1024L * MIB;
  public static final long TIB = 1024L * GIB;

  /**
   * Lower-case letters, digits and dashes, 1 to 63 characters, starting with a letter or digit:
   * the name goes into dm device names (limit 127) and NQNs (limit 223) with room for suffixes.
   */
  private static final Pattern NAME = Pattern.compile("[a-z0-9][a-z0-9-]{0,62}");

  /** The first invalid field, or empty when the spec can be placed. */
  public Optional<FieldError> validate() {
    if (name == null || !NAME.matcher(name).matches()) {
      return Optional.of(
          new FieldError(
              "name", "name must be 1-63 of [a-z0-9-], starting with a letter or digit"));
    }
    if (sizeBytes < MIB || sizeBytes % MIB != 0) {
      return Optional.of(
          new FieldError("sizeBytes", "sizeBytes must be a positive multiple of 1 MiB"));
    }
    if (layout == null) {
      return Optional.of(new FieldError("layout", "layout is required"));
    }
    Optional<FieldError> layoutProblem = layout.validate();
    if (layoutProblem.isPresent()) {
      return layoutProblem;
    }
    if ((Names.NQN_PREFIX + name + ".l" + (layout.legs() - 1) + "r" + (layout.replicas() - 1))
            .getBytes(java.nio.charset.StandardCharsets.UTF_8).length
        > 223) {
      return Optional.of(new FieldError("name", "name makes an NQN longer than 223 bytes"));
    }
    return Optional.empty();
  }
}
