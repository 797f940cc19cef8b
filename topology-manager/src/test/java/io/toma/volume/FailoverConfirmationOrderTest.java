package io.toma.volume;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.toma.healing.Failover;
import io.toma.topology.ReplicaPlacement;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;

/**
 * A failover advances on the agents' acknowledgements (their {@code Applied}), not on a timer, so
 * the order in which those arrive must never let the promotion overtake the fence. Here every
 * agent is silent and the test hands the decider acknowledgements itself: early, late, twice, for
 * revisions older than the fence, and from the standby before any disk node.
 */
class FailoverConfirmationOrderTest {

  @Test
  void the_standby_is_promoted_only_after_every_disk_node_confirmed_the_fence_whatever_order_the_acknowledgements_come_in() {
    DeciderWorld w = VolumeLinkHealingDecisionTest.disaggregated("vol-acks");
    String active = w.active();
    String standby = VolumeLinkHealingDecisionTest.standby(w);
    Set<String> diskNodes = VolumeLinkHealingDecisionTest.members(w).stream().map(ReplicaPlacement::nodeId)
        .collect(Collectors.toCollection(TreeSet::new));
    w.silentNodes.addAll(diskNodes);
    w.silentNodes.add(standby);

    w.feed(new VolumeInput.ControllerUnreachable(active, "unreachable by a majority for 250 ms"));
    assertEquals(Failover.Stage.FENCING_REQUESTED, stage(w));
    List<String> disks = List.copyOf(diskNodes);
    long fence = heldRevision(w, disks.get(0));

    // the standby answers first (it got a revision too), then a disk node for an older revision
    w.feed(new VolumeInput.Applied(standby, w.record.revision()));
    w.feed(new VolumeInput.Applied(disks.get(0), fence - 1));
    // then one disk node confirms, twice
    w.feed(new VolumeInput.Applied(disks.get(0), fence));
    w.feed(new VolumeInput.Applied(disks.get(0), fence));
    assertEquals(Failover.Stage.FENCING_REQUESTED, stage(w), "one disk node has not confirmed: " + steps(w));
    assertEquals(0, w.record.healing().promotions());
    assertTrue(w.held.stream().noneMatch(o -> o instanceof Outbound.ApplyToNode a && a.nodeId().equals(standby)
        && DeciderWorld.optimized(a.desired())), "no optimized state was sent to the standby yet");

    w.feed(new VolumeInput.Applied(disks.get(1), heldRevision(w, disks.get(1))));
    assertEquals(Failover.Stage.PROMOTION_REQUESTED, stage(w), steps(w).toString());
    // the fence revision acknowledged again by the standby, and a disk node repeating itself: not the promotion
    w.feed(new VolumeInput.Applied(standby, fence));
    w.feed(new VolumeInput.Applied(disks.get(1), heldRevision(w, disks.get(1))));
    assertEquals(Failover.Stage.PROMOTION_REQUESTED, stage(w), "promoted only on the promoted stack's acknowledgement");

    w.release(standby);
    assertEquals(standby, w.active());
    assertEquals(1, w.record.healing().promotions(), "promoted once");
    assertEquals(List.of("FenceConfirmed", "FenceConfirmed", "Fenced", "PromotionRequested", "Promoted"),
        steps(w).stream().filter(s -> s.startsWith("Fence") || s.startsWith("Promot")).limit(5).toList(),
        "each disk node confirmed once, then the promotion");
  }

  @Test
  void an_acknowledgement_from_an_earlier_failover_does_not_confirm_the_fence_of_the_next_one() {
    DeciderWorld w = VolumeLinkHealingDecisionTest.disaggregated("vol-acks-epoch");
    String first = w.active();
    w.feed(new VolumeInput.ControllerUnreachable(first, "unreachable by a majority for 250 ms"));
    String second = w.active();
    Set<String> diskNodes = VolumeLinkHealingDecisionTest.members(w).stream().map(ReplicaPlacement::nodeId)
        .collect(Collectors.toCollection(TreeSet::new));
    long oldFence = diskNodes.stream().mapToLong(n -> w.record.desiredRevisions().get(n)).max().orElseThrow();
    w.silentNodes.addAll(diskNodes);

    w.feed(new VolumeInput.ControllerUnreachable(second, "unreachable by a majority for 250 ms"));
    for (String node : diskNodes) {
      w.feed(new VolumeInput.Applied(node, oldFence)); // what they applied for the first failover
    }

    assertEquals(Failover.Stage.FENCING_REQUESTED, stage(w), steps(w).toString());
    assertEquals(1, w.record.healing().promotions(), "nobody promoted on the first failover's confirmations");
    assertEquals("", w.active(), "the second active was fenced out and no standby promoted yet");
  }

  private static Failover.Stage stage(DeciderWorld w) {
    return w.record.healing().failover().orElseThrow().stage();
  }

  private static long heldRevision(DeciderWorld w, String node) {
    return w.held.stream().filter(o -> o instanceof Outbound.ApplyToNode a && a.nodeId().equals(node))
        .mapToLong(o -> ((Outbound.ApplyToNode) o).revision()).max().orElseThrow();
  }

  private static List<String> steps(DeciderWorld w) {
    return w.journal.stream().filter(e -> e instanceof VolumeRecord.FailoverStep)
        .map(e -> ((VolumeRecord.FailoverStep) e).event().getClass().getSimpleName()).toList();
  }
}
