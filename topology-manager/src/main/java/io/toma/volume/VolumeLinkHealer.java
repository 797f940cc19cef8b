package io.toma.volume;

import io.toma.healing.FaultDetector;
import io.toma.healing.FaultImpact;
import io.toma.healing.Refs.MemberRef;
import io.toma.topology.ControllerPlacement;
import io.toma.topology.ControllerRole;
import io.toma.topology.ReplicaPlacement;
import io.toma.topology.TomaEvent;
import io.toma.topology.VolumePlacement;
import io.toma.volume.VolumeDecider.Steps;
import io.toma.volume.VolumeRecord.Phase;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;

/**
 * What a volume does about faults that take away a path rather than a node: a lost link from its
 * active controller to a disk node, and a controller node a majority cannot see (not yet downed).
 * Pure, like the decider; it reuses the healer's rebuild and failover machinery.
 */
final class VolumeLinkHealer {
  private VolumeLinkHealer() {}

  /**
   * After the grace window: rebuild the members the active cannot reach elsewhere while it still
   * reads every leg, or fail over (fence first) to a standby that reaches every leg when the
   * active does not ({@link FaultImpact#respondToLinkLoss}). A link from a standby changes nothing
   * now (a later promotion checks the standby's reach again).
   */
  static void onLinkLost(Steps s, VolumeInput.LinkLost lost) {
    VolumeRecord state = s.state;
    if (state.phase() != Phase.PLACED || state.healing().failingOver()) {
      return;
    }
    String active = VolumeHealer.activeController(state);
    VolumePlacement p = state.placement().orElseThrow();
    boolean touches = p.replicas().stream().anyMatch(r -> r.nodeId().equals(lost.peer()));
    if (!lost.observer().equals(active) || !touches) {
      return;
    }
    List<MemberRef> members = p.replicas().stream()
        .filter(r -> !state.lostDisks().containsKey(r.diskId()))
        .map(r -> VolumeHealer.memberRef(s.volumeId, r)).toList();
    List<String> standbys = p.controllers().stream()
        .filter(c -> c.role() == ControllerRole.STANDBY && !state.healing().lostNodes().contains(c.nodeId()))
        .map(ControllerPlacement::nodeId).toList();
    Set<String> cut = lost.cutLinks();
    FaultImpact.LinkResponse response = FaultImpact.respondToLinkLoss(
        new FaultDetector.LinkLost(lost.observer(), lost.peer(), lost.reason()), active, standbys, members,
        (node, peer) -> cut.contains(node + "->" + peer)
            || (node.equals(lost.observer()) && peer.equals(lost.peer())));
    String why = "link " + lost.observer() + "->" + lost.peer() + " lost (" + lost.reason() + ")";
    s.publish(TomaEvent.FAULT_DETECTED, why);
    if (response instanceof FaultImpact.RebuildMembers rebuild) {
      Set<String> disks = new TreeSet<>();
      rebuild.members().forEach(m -> disks.add(m.extent().disk()));
      for (String disk : disks) {
        VolumeHealer.diskLost(s, disk, why); // one rebuild per member, elsewhere; the disk itself is fine
      }
    } else if (response instanceof FaultImpact.FailOver f) {
      VolumeHealer.startFailover(s, active, why + "; standby " + f.standby() + " reaches every leg");
    } else if (response instanceof FaultImpact.NoRoute n) {
      s.log("warn", why + ": " + n.reason() + "; Toma waits for a path to come back");
    }
  }

  /**
   * A controller-only active (no member of this volume on its node) fails over as soon as a
   * majority confirms it unreachable: the fence revokes its host NQN at every disk node before the
   * standby is promoted, so it cannot write even if it is alive. A converged active waits for the
   * node's loss (by then it must have fenced itself), and members are never rebuilt on
   * unreachability alone.
   */
  static void onControllerUnreachable(Steps s, VolumeInput.ControllerUnreachable u) {
    VolumeRecord state = s.state;
    if (state.phase() != Phase.PLACED || state.healing().failingOver()
        || !u.nodeId().equals(VolumeHealer.activeController(state))) {
      return;
    }
    boolean converged = state.placement().orElseThrow().replicas().stream()
        .map(ReplicaPlacement::nodeId).anyMatch(u.nodeId()::equals);
    if (converged) {
      s.log("info", "controller " + u.nodeId() + " unreachable (" + u.reason() + "); it holds members of this"
          + " volume, so Toma waits until it must have fenced itself (node lost)");
      return;
    }
    s.publish(TomaEvent.FAULT_DETECTED, "controller " + u.nodeId() + " unreachable (" + u.reason() + ")");
    VolumeHealer.startFailover(s, u.nodeId(), "controller " + u.nodeId() + " unreachable (" + u.reason() + ")");
  }
}
