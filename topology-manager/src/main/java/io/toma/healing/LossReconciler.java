package io.toma.healing;

import java.time.Duration;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;

/**
 * Desired against actual for whole nodes: a node the topology knows (it registered, it has disks)
 * that is not a live member of the cluster is a loss, whether or not anyone saw it go. The fault
 * router is a singleton with soft state; when the member that hosted it dies, the new router starts
 * after the membership events of that death were published, so only this comparison finds it.
 *
 * <p>A node must be seen missing at two looks at least {@code confirm} apart: the topology view and
 * the membership view are gossiped separately, and a node that just joined may be known to one
 * before the other. A loss is routed once; a node seen live again may be lost again later. Routing
 * a loss twice is harmless (volumes ignore a repeated loss), missing it is not.
 */
public final class LossReconciler {
  private LossReconciler() {}

  /**
   * @param missingSince when each not-yet-routed node was first seen missing (epoch millis)
   * @param routed nodes whose loss was routed and that have not been seen live since
   */
  public record State(Map<String, Long> missingSince, Set<String> routed) {
    public State {
      missingSince = Map.copyOf(missingSince);
      routed = Set.copyOf(routed);
    }

    public static State empty() {
      return new State(Map.of(), Set.of());
    }

    /** The detector declared this loss itself: no need to route it again. */
    public State withRouted(Set<String> nodes) {
      Set<String> r = new TreeSet<>(routed);
      r.addAll(nodes);
      Map<String, Long> m = new TreeMap<>(missingSince);
      nodes.forEach(m::remove);
      return new State(m, r);
    }
  }

  /** The next state and the nodes whose loss to route now. */
  public record Step(State state, Set<String> lost) {
    public Step {
      lost = Set.copyOf(lost);
    }
  }

  /**
   * @param known nodes the topology knows (registered controller nodes, nodes with disks)
   * @param live nodes that are members of the cluster and not downed
   */
  public static Step reconcile(State state, Set<String> known, Set<String> live, long now, Duration confirm) {
    Map<String, Long> missing = new TreeMap<>();
    Set<String> routed = new TreeSet<>();
    Set<String> lost = new TreeSet<>();
    for (String node : known) {
      if (live.contains(node)) {
        continue;
      }
      if (state.routed().contains(node)) {
        routed.add(node);
        continue;
      }
      long since = state.missingSince().getOrDefault(node, now);
      if (state.missingSince().containsKey(node) && now - since >= confirm.toMillis()) {
        lost.add(node);
        routed.add(node);
      } else {
        missing.put(node, since);
      }
    }
    return new Step(new State(missing, routed), lost);
  }
}
