package io.toma.topology;

import java.time.Duration;

/**
 * The knobs of the topology manager (docs/placement.md, "Knobs").
 *
 * @param spareReserveFraction share of every disk kept free for re-protection (new volumes may not
 *     use it; rebuilds may)
 * @param placementAttempts how many placements a create tries when disks or nodes refuse
 * @param askTimeout how long an entity waits for another entity's answer
 * @param applyResendInterval how often an unacknowledged Apply or Remove is sent again
 * @param snapshotEvery events between snapshots of every entity
 * @param controllerSlotsPerNode controller ports (volumes) one node may host
 */
public record TopologySettings(
    double spareReserveFraction,
    int placementAttempts,
    Duration askTimeout,
    Duration applyResendInterval,
    int snapshotEvery,
    int controllerSlotsPerNode) {

  public static TopologySettings defaults() {
    return new TopologySettings(0.05, 3, Duration.ofSeconds(5), Duration.ofSeconds(2), 100, 1000);
  }

  public TopologySettings withApplyResendInterval(Duration interval) {
    return new TopologySettings(spareReserveFraction, placementAttempts, askTimeout, interval,
        snapshotEvery, controllerSlotsPerNode);
  }

  public TopologySettings withSnapshotEvery(int events) {
    return new TopologySettings(spareReserveFraction, placementAttempts, askTimeout, applyResendInterval,
        events, controllerSlotsPerNode);
  }

  public TopologySettings withAskTimeout(Duration timeout) {
    return new TopologySettings(spareReserveFraction, placementAttempts, timeout, applyResendInterval,
        snapshotEvery, controllerSlotsPerNode);
  }

  public TopologySettings withSpareReserveFraction(double fraction) {
    return new TopologySettings(fraction, placementAttempts, askTimeout, applyResendInterval,
        snapshotEvery, controllerSlotsPerNode);
  }
}
