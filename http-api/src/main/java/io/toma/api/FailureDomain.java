package io.toma.api;

import com.fasterxml.jackson.annotation.JsonValue;
import java.util.Optional;

/** The level at which two replicas of one leg must differ. */
public enum FailureDomain {
  NODE,
  RACK,
  ZONE;

  @JsonValue
  public String wireName() {
    return name().toLowerCase(java.util.Locale.ROOT);
  }

  public static Optional<FailureDomain> parse(String text) {
    for (FailureDomain d : values()) {
      if (d.wireName().equals(text)) {
        return Optional.of(d);
      }
    }
    return Optional.empty();
  }
}
