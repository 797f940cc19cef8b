package io.toma.api;

import com.fasterxml.jackson.annotation.JsonValue;
import java.util.Optional;

/** What a demo fault breaks: a disk, the link between two nodes, a node, or a whole rack. */
public enum FaultKind {
  DISK,
  LINK,
  NODE,
  RACK;

  @JsonValue
  public String wireName() {
    return name().toLowerCase(java.util.Locale.ROOT);
  }

  public static Optional<FaultKind> parse(String text) {
    for (FaultKind k : values()) {
      if (k.wireName().equals(text)) {
        return Optional.of(k);
      }
    }
    return Optional.empty();
  }
}
