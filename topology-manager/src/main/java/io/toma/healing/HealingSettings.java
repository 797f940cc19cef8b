package io.toma.healing;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

/**
 * Every knob of self-healing, with the defaults docs/failures.md justifies. The decision functions
 * take this record as an argument; none of them reads configuration on its own.
 *
 * @param graceWindow how long a doubtful loss (a link, a raid member, a node seen unreachable by
 *     the majority but not downed) may last and still be re-added and resynced instead of rebuilt
 * @param rackCorrelationWindow nodes of one rack whose losses start within this window are reported
 *     as one rack loss
 * @param fenceConfirmTimeout how long a failover waits for a disk node to confirm the fence before
 *     its slices are treated as lost members
 * @param selfFenceTimeout how long a controller node may be cut off from the majority before it
 *     turns its exports inaccessible on its own
 * @param hostIoTimeout the NVMe I/O timeout of hosts (nvme_core io_timeout); a host retries on
 *     another path only after it
 * @param maxRebuildsPerDisk concurrent rebuilds that may read from or write to one disk
 * @param maxRebuildsPerNode concurrent rebuilds that may touch one node
 * @param controllerFailoverConfirm how long a majority must see a node unreachable before the
 *     volumes whose active controller it is, with no member on it, fail over (before downing)
 */
public record HealingSettings(
    Duration graceWindow,
    Duration rackCorrelationWindow,
    Duration fenceConfirmTimeout,
    Duration selfFenceTimeout,
    Duration hostIoTimeout,
    int maxRebuildsPerDisk,
    int maxRebuildsPerNode,
    Duration controllerFailoverConfirm) {

  /**
   * 250 ms: one unreachable-check period of the cluster (toma-cluster.conf), so a node seen again at
   * the next check never moves a volume; the failure detector's acceptable pause already absorbed
   * GC pauses before the node was marked unreachable. Fencing makes a wrong guess safe, and
   * {@link FaultDetector} holds early reports back for flapping nodes and for an observer that
   * looks cut off (docs/failures.md).
   */
  public static final Duration DEFAULT_CONTROLLER_FAILOVER_CONFIRM = Duration.ofMillis(250);

  public HealingSettings(Duration graceWindow, Duration rackCorrelationWindow, Duration fenceConfirmTimeout,
      Duration selfFenceTimeout, Duration hostIoTimeout, int maxRebuildsPerDisk, int maxRebuildsPerNode) {
    this(graceWindow, rackCorrelationWindow, fenceConfirmTimeout, selfFenceTimeout, hostIoTimeout,
        maxRebuildsPerDisk, maxRebuildsPerNode, DEFAULT_CONTROLLER_FAILOVER_CONFIRM);
  }

  public HealingSettings withControllerFailoverConfirm(Duration confirm) {
    return new HealingSettings(graceWindow, rackCorrelationWindow, fenceConfirmTimeout, selfFenceTimeout,
        hostIoTimeout, maxRebuildsPerDisk, maxRebuildsPerNode, confirm);
  }

  public static HealingSettings defaults() {
    return new HealingSettings(
        Duration.ofSeconds(10),
        Duration.ofSeconds(3),
        Duration.ofSeconds(5),
        Duration.ofSeconds(3),
        Duration.ofSeconds(30),
        2,
        4);
  }

  public HealingSettings withGraceWindow(Duration grace) {
    return new HealingSettings(
        grace, rackCorrelationWindow, fenceConfirmTimeout, selfFenceTimeout, hostIoTimeout,
        maxRebuildsPerDisk, maxRebuildsPerNode, controllerFailoverConfirm);
  }

  public HealingSettings withRebuildCaps(int perDisk, int perNode) {
    return new HealingSettings(
        graceWindow, rackCorrelationWindow, fenceConfirmTimeout, selfFenceTimeout, hostIoTimeout,
        perDisk, perNode, controllerFailoverConfirm);
  }

  public HealingSettings withTimeouts(Duration selfFence, Duration hostIo) {
    return new HealingSettings(
        graceWindow, rackCorrelationWindow, fenceConfirmTimeout, selfFence, hostIo,
        maxRebuildsPerDisk, maxRebuildsPerNode, controllerFailoverConfirm);
  }

  /**
   * What is wrong with these settings, in words an operator can act on; empty when they are safe.
   * A node should refuse to start with a non-empty list.
   */
  public List<String> problems() {
    List<String> problems = new ArrayList<>();
    problems.addAll(io.toma.agent.SelfFence.checkTimeouts(selfFenceTimeout, hostIoTimeout));
    if (!rackCorrelationWindow.minus(graceWindow).isNegative()) {
      // The detector decides a rack group when the grace of its latest member ends: a window as
      // long as the grace would let a group keep growing after its first member was due.
      problems.add(
          "healing.rack-correlation-window (" + rackCorrelationWindow
              + ") must be shorter than healing.grace-window (" + graceWindow + ")");
    }
    if (graceWindow.isNegative() || fenceConfirmTimeout.isNegative() || fenceConfirmTimeout.isZero()) {
      problems.add("healing.grace-window must be >= 0 and healing.fence-confirm-timeout > 0");
    }
    if (controllerFailoverConfirm.compareTo(graceWindow) > 0 || controllerFailoverConfirm.isNegative()) {
      // past the grace window the node is declared lost anyway: the early failover would never come first
      problems.add("healing.controller-failover-confirm (" + controllerFailoverConfirm
          + ") must be between 0 and healing.grace-window (" + graceWindow + ")");
    }
    if (maxRebuildsPerDisk < 1 || maxRebuildsPerNode < 1) {
      problems.add(
          "healing.max-rebuilds-per-disk and healing.max-rebuilds-per-node must be at least 1,"
              + " or no repair would ever start");
    }
    return List.copyOf(problems);
  }
}
