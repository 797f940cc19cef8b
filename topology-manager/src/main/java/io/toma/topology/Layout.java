package io.toma.topology;

import io.toma.persistence.CborSerializable;
import java.util.Optional;

/**
 * How a volume is built: {@code legs} striped (raid0), each leg a raid1 of {@code replicas}
 * members on distinct failure domains at {@code level}; one active controller and
 * {@code standbyControllers} standbys.
 */
public record Layout(
    int legs, int replicas, int activeControllers, int standbyControllers, FailureDomainLevel level)
    implements CborSerializable {

  public static final int MAX_LEGS = 16;
  public static final int MAX_STANDBYS = 4;

  public static Layout of(int legs, int replicas, int standbys, FailureDomainLevel level) {
    return new Layout(legs, replicas, 1, standbys, level);
  }

  /** The first field that is out of range, or empty when the layout is buildable. */
  public Optional<FieldError> validate() {
    if (legs < 1 || legs > MAX_LEGS) {
      return Optional.of(new FieldError("layout.legs", "legs must be 1.." + MAX_LEGS));
    }
    if (replicas < 1 || replicas > 3) {
      return Optional.of(new FieldError("layout.replicas", "replicas must be 1, 2 or 3"));
    }
    if (activeControllers != 1) {
      return Optional.of(
          new FieldError("layout.activeControllers", "activeControllers must be 1"));
    }
    if (standbyControllers < 0 || standbyControllers > MAX_STANDBYS) {
      return Optional.of(
          new FieldError(
              "layout.standbyControllers", "standbyControllers must be 0.." + MAX_STANDBYS));
    }
    if (level == null) {
      return Optional.of(
          new FieldError("layout.failureDomain", "failureDomain must be node, rack or zone"));
    }
    return Optional.empty();
  }
}
