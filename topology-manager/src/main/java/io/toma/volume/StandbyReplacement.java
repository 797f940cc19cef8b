package io.toma.volume;

import io.toma.node.ControllerNode;
import io.toma.topology.ControllerPlacement;
import io.toma.topology.ControllerRole;
import io.toma.topology.NodeFacts;
import io.toma.topology.TomaEvent;
import io.toma.volume.VolumeDecider.Steps;
import io.toma.volume.VolumeRecord.Phase;
import java.util.Comparator;
import java.util.List;
import java.util.Optional;

/**
 * Keeps a volume's standby controllers at the count its layout asks for when a standby is lost on
 * its own (its node lost or drained while the active is fine). A failover places its own new
 * standby; this rule covers the rest. Pure, like the decider, and it never touches the active.
 *
 * <ul>
 *   <li>A standby on a node the volume noted lost leaves the placement ({@link
 *       VolumeRecord.StandbyRetired}): its node is sent {@code Remove} until it confirms (it may
 *       come back holding the export) and its controller slot is given back.
 *   <li>While fewer live standbys than the layout asks for remain, a new one is asked for on a
 *       controller node from the capacity snapshot: not lost, not cordoned, not already a
 *       controller of the volume (so never the active's node), another rack than the active's when
 *       one qualifies, then the least loaded. The ask is repeated on every tick until a slot is
 *       granted (slots are idempotent per volume), so a refused or lost answer needs no state.
 * </ul>
 *
 * <p>Nothing is done while a failover is under way or deferred, or while the volume has no active
 * controller: the failover's own stages decide about standbys then.
 */
final class StandbyReplacement {
  private StandbyReplacement() {}

  /** Retire lost standbys and ask for the missing ones. */
  static void check(Steps s) {
    if (!applies(s.state)) {
      return;
    }
    for (ControllerPlacement lost : lostStandbys(s.state)) {
      s.emit(new VolumeRecord.StandbyRetired(lost.nodeId()));
      s.send(new Outbound.ReleaseControllerSlot(lost.nodeId(), ""));
      s.publish(TomaEvent.REPAIR_STEP, "standby on " + lost.nodeId() + " retired (node lost); placing a new one");
    }
    if (missing(s.state) > 0) {
      choose(s.state, s.ctx.capacity().nodes()).ifPresent(n -> s.send(new Outbound.RequestStandbySlot(n.nodeId())));
    }
  }

  /**
   * A standby slot answered outside a failover. Returns whether this rule took the answer (a
   * standby was missing); otherwise the caller handles it as before.
   */
  static boolean onSlot(Steps s, VolumeInput.StandbySlotAnswered msg) {
    if (!applies(s.state) || missing(s.state) == 0) {
      return false;
    }
    if (isController(s.state, msg.nodeId())) {
      return true; // a repeated ask answered again: that node is already a controller of the volume
    }
    if (msg.reply().orElse(null) instanceof ControllerNode.SlotGranted granted) {
      VolumeHealer.addStandby(s, granted);
      s.publish(TomaEvent.REPAIR_STEP, "standby placed on " + granted.node().nodeId());
    } else {
      s.log("info", "standby slot refused on " + msg.nodeId() + "; Toma asks again on the next tick");
    }
    return true;
  }

  /** Whether the volume needs ticks for this rule: a lost standby to retire or a standby missing. */
  static boolean pending(VolumeRecord state) {
    return applies(state) && (!lostStandbys(state).isEmpty() || missing(state) > 0);
  }

  /** Where a new standby would go: a pure look at the capacity snapshot's nodes. */
  static Optional<NodeFacts> choose(VolumeRecord state, List<NodeFacts> nodes) {
    List<ControllerPlacement> controllers = state.placement().orElseThrow().controllers();
    Optional<NodeFacts> active = controllers.stream().filter(c -> c.role() == ControllerRole.ACTIVE)
        .findFirst().flatMap(c -> nodes.stream().filter(n -> n.nodeId().equals(c.nodeId())).findFirst());
    return nodes.stream()
        .filter(n -> n.canHostControllers() && n.placeable())
        .filter(n -> !isController(state, n.nodeId()) && !state.healing().lostNodes().contains(n.nodeId()))
        .min(Comparator.comparing((NodeFacts n) -> active.map(a -> sameRack(n, a)).orElse(false))
            .thenComparingInt(NodeFacts::hostedControllers)
            .thenComparing(NodeFacts::nodeId));
  }

  private static boolean applies(VolumeRecord state) {
    return state.phase() == Phase.PLACED && !state.healing().failingOver()
        && !VolumeHealer.activeController(state).isEmpty();
  }

  private static List<ControllerPlacement> lostStandbys(VolumeRecord state) {
    return state.placement().orElseThrow().controllers().stream()
        .filter(c -> c.role() == ControllerRole.STANDBY && state.healing().lostNodes().contains(c.nodeId()))
        .toList();
  }

  /** Standbys the layout asks for minus the live ones (never negative). */
  private static int missing(VolumeRecord state) {
    long live = state.placement().orElseThrow().controllers().stream()
        .filter(c -> c.role() == ControllerRole.STANDBY && !state.healing().lostNodes().contains(c.nodeId()))
        .count();
    return (int) Math.max(0, state.spec().orElseThrow().layout().standbyControllers() - live);
  }

  private static boolean isController(VolumeRecord state, String nodeId) {
    return state.placement().orElseThrow().controllers().stream().anyMatch(c -> c.nodeId().equals(nodeId));
  }

  private static boolean sameRack(NodeFacts node, NodeFacts active) {
    return node.zone().equals(active.zone()) && node.rack().equals(active.rack());
  }
}
