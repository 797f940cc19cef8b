package io.toma.simulation;

import io.toma.healing.SafetyOverrides;
import java.time.Duration;
import java.util.EnumSet;
import java.util.Set;

/**
 * What a run may draw from its seed (the manager is always the production {@code VolumeDecider},
 * through {@link DeciderManager}): the cluster's size, how many volumes and faults, which fault
 * kinds, and the time budget (setup, faults, quiet period, and the bound within which every volume
 * must be back Online once faults stop).
 */
public record Options(
    int minNodes,
    int maxNodes,
    int minVolumes,
    int maxVolumes,
    int minFaults,
    int maxFaults,
    Set<FaultKind> faultKinds,
    boolean disaggregated,
    Duration step,
    Duration setup,
    Duration faultSpacing,
    Duration quietPeriod,
    Duration onlineBound,
    SafetyOverrides overrides) {

  public Options {
    faultKinds = Set.copyOf(faultKinds.isEmpty() ? EnumSet.noneOf(FaultKind.class) : EnumSet.copyOf(faultKinds));
    if (minNodes < 4 || maxNodes < minNodes || minVolumes < 1 || maxVolumes < minVolumes
        || minFaults < 0 || maxFaults < minFaults) {
      throw new IllegalArgumentException("options out of range: " + minNodes + ".." + maxNodes + " nodes, "
          + minVolumes + ".." + maxVolumes + " volumes, " + minFaults + ".." + maxFaults + " faults");
    }
  }

  /** The shape of the issue: 4-10 nodes, 1-4 volumes, 1-4 faults of every kind. */
  public static Options defaults() {
    return new Options(4, 10, 1, 4, 1, 4, EnumSet.allOf(FaultKind.class), false,
        Duration.ofMillis(100), Duration.ofSeconds(5), Duration.ofSeconds(25), Duration.ofSeconds(20),
        Duration.ofSeconds(60), SafetyOverrides.SAFE);
  }

  /** Small clusters and short schedules, for the fixed seeds of the test suite. */
  public static Options small() {
    return new Options(4, 6, 1, 2, 1, 2, EnumSet.allOf(FaultKind.class), false,
        Duration.ofMillis(100), Duration.ofSeconds(3), Duration.ofSeconds(20), Duration.ofSeconds(10),
        Duration.ofSeconds(60), SafetyOverrides.SAFE);
  }

  public Options withOverrides(SafetyOverrides value) {
    return new Options(minNodes, maxNodes, minVolumes, maxVolumes, minFaults, maxFaults, faultKinds,
        disaggregated, step, setup, faultSpacing, quietPeriod, onlineBound, value);
  }

  public Options withFaultKinds(Set<FaultKind> kinds) {
    return new Options(minNodes, maxNodes, minVolumes, maxVolumes, minFaults, maxFaults, kinds,
        disaggregated, step, setup, faultSpacing, quietPeriod, onlineBound, overrides);
  }

  public Options withFaults(int min, int max) {
    return new Options(minNodes, maxNodes, minVolumes, maxVolumes, min, max, faultKinds,
        disaggregated, step, setup, faultSpacing, quietPeriod, onlineBound, overrides);
  }

  /** Disk nodes and controller nodes apart (no converged node). */
  public Options withDisaggregated(boolean value) {
    return new Options(minNodes, maxNodes, minVolumes, maxVolumes, minFaults, maxFaults, faultKinds,
        value, step, setup, faultSpacing, quietPeriod, onlineBound, overrides);
  }
}
