package io.toma.kernel;

import java.util.Optional;

/**
 * A device named in a dm table argument or a namespace device path: either one of the symbolic
 * references of {@link DesiredState} ({@code @disk:}, {@code @dm:}, {@code @ns:}) or a literal
 * absolute path. Parsing is strict: anything else is not a device reference.
 */
public sealed interface DeviceRef {

  record Disk(String diskId) implements DeviceRef {}

  record Dm(String name) implements DeviceRef {}

  record Namespace(String uuid) implements DeviceRef {}

  record Path(String path) implements DeviceRef {}

  String DISK = "@disk:";
  String DM = "@dm:";
  String NS = "@ns:";

  /** The reference a token stands for, if it is one (a symbolic ref or a path under /dev). */
  static Optional<DeviceRef> parse(String token) {
    if (token.startsWith(DISK)) {
      return Optional.of(new Disk(token.substring(DISK.length())));
    }
    if (token.startsWith(DM)) {
      return Optional.of(new Dm(token.substring(DM.length())));
    }
    if (token.startsWith(NS)) {
      return Optional.of(new Namespace(token.substring(NS.length())));
    }
    if (token.startsWith("/dev/")) {
      return Optional.of(new Path(token));
    }
    return Optional.empty();
  }

  /** The symbolic token for a dm device, as a table argument. */
  static String dm(String name) {
    return DM + name;
  }
}
