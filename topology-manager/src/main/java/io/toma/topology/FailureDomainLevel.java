package io.toma.topology;

import java.util.Locale;
import java.util.Optional;

/** The failure-domain level at which the replicas of one leg must differ (DESIGN.md §1). */
public enum FailureDomainLevel {
  NODE,
  RACK,
  ZONE;

  /** The label of this level for a disk sitting at the given place. */
  public String domainOf(String nodeId, String rack, String zone) {
    return switch (this) {
      case NODE -> nodeId;
      case RACK -> zone + "/" + rack;
      case ZONE -> zone;
    };
  }

  public String label() {
    return name().toLowerCase(Locale.ROOT);
  }

  public static Optional<FailureDomainLevel> parse(String text) {
    for (FailureDomainLevel level : values()) {
      if (level.label().equalsIgnoreCase(text)) {
        return Optional.of(level);
      }
    }
    return Optional.empty();
  }
}
