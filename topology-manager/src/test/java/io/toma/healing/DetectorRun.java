package io.toma.healing;

import io.toma.healing.FaultDetector.Fault;
import io.toma.healing.FaultDetector.MemberUp;
import io.toma.healing.FaultDetector.Signal;
import io.toma.healing.FaultDetector.State;
import io.toma.healing.FaultDetector.Step;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * Drives a {@link FaultDetector} the way the manager's actor will: signals as they come, a tick
 * every 250 ms of simulated time in between, every fault collected in order.
 */
final class DetectorRun {
  static final long TICK = 250;

  final HealingSettings settings;
  State state = State.empty();
  long now = 0;
  /** Losses and returns, in order. */
  final List<Fault> faults = new ArrayList<>();
  /** Early reports of a node a majority cannot see (for controller-only failover), in order. */
  final List<FaultDetector.NodeUnreachable> unreachable = new ArrayList<>();
  final List<String> nodes = new ArrayList<>();

  private DetectorRun(HealingSettings settings) {
    this.settings = settings;
  }

  /** A cluster of {@code racks} racks named r1.., each with nodes r1-n1, r1-n2, ... */
  static DetectorRun aCluster(int racks, int nodesPerRack) {
    DetectorRun run = new DetectorRun(HealingSettings.defaults());
    for (int r = 1; r <= racks; r++) {
      for (int n = 1; n <= nodesPerRack; n++) {
        String node = "r" + r + "-n" + n;
        run.nodes.add(node);
        run.signal(new MemberUp(node, Optional.of("r" + r)));
      }
    }
    return run;
  }

  DetectorRun signal(Signal signal) {
    Step step = FaultDetector.apply(state, signal, now, settings);
    state = step.state();
    collect(step.faults());
    return this;
  }

  private void collect(List<Fault> out) {
    for (Fault f : out) {
      if (f instanceof FaultDetector.NodeUnreachable u) {
        unreachable.add(u);
      } else {
        faults.add(f);
      }
    }
  }

  /** Every node other than {@code subject} (and the other given nodes) marks it unreachable. */
  DetectorRun unreachableByAllOthers(String subject, List<String> alsoDown) {
    for (String observer : nodes) {
      if (!observer.equals(subject) && !alsoDown.contains(observer)) {
        signal(new FaultDetector.Unreachable(observer, subject));
      }
    }
    return this;
  }

  DetectorRun reachableByAllOthers(String subject) {
    for (String observer : nodes) {
      if (!observer.equals(subject)) {
        signal(new FaultDetector.Reachable(observer, subject));
      }
    }
    return this;
  }

  /** Let time pass, ticking as the actor's timer would. */
  DetectorRun advance(long millis) {
    long end = now + millis;
    while (now < end) {
      now = Math.min(end, now + TICK);
      Step step = FaultDetector.tick(state, now, settings);
      state = step.state();
      collect(step.faults());
    }
    return this;
  }

  <T extends Fault> List<T> faultsOf(Class<T> type) {
    return faults.stream().filter(type::isInstance).map(type::cast).toList();
  }
}
