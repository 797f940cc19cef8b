package io.toma.volume;

import io.toma.capacity.CapacityView;
import io.toma.healing.HealingSettings;
import io.toma.healing.SafetyOverrides;
import io.toma.topology.TopologySettings;
import java.util.Map;

/**
 * What a decision may know besides the record and the input: the time, an id to use if it needs a
 * new one (the shell passes a random UUID, the simulation one from its seed), the settings, the
 * latest capacity snapshot the shell holds (repairs place from it), and the controllers' latest raid status per leg device (observations, kept by the shell).
 */
public record DecisionContext(
    long nowMillis,
    String freshId,
    TopologySettings settings,
    HealingSettings healing,
    SafetyOverrides overrides,
    CapacityView.Snapshot capacity,
    Map<String, VolumeViews.RaidHealth> raidHealth) {

  public DecisionContext {
    raidHealth = io.toma.healing.Canonical.map(raidHealth);
  }
}
