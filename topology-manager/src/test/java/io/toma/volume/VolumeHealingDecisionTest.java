package io.toma.volume;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.toma.healing.Failover;
import io.toma.topology.ControllerPlacement;
import io.toma.topology.ControllerRole;
import io.toma.topology.FailureDomainLevel;
import io.toma.topology.Layout;
import io.toma.topology.ReplicaPlacement;
import io.toma.topology.VolumeSpec;
import io.toma.topology.VolumeState;
import java.time.Duration;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;

/**
 * Healing decisions of one volume, end to end through {@link VolumeDecider} in a single-threaded
 * world ({@link DeciderWorld}): faults in, the persisted stage machines, the revisions each node
 * applies, in the order they happen.
 */
class VolumeHealingDecisionTest {

  static final long GIB = 1L << 30;
  static final String HOST = "nqn.2026-11.io.toma:host:app1";

  static DeciderWorld onlineVolume(String id, int legs, int replicas) {
    DeciderWorld w = new DeciderWorld(id).withRacks(3, 2);
    w.feed(new VolumeInput.Create(new VolumeSpec(id, 8 * GIB, Layout.of(legs, replicas, 1, FailureDomainLevel.RACK))));
    w.feed(new VolumeInput.Attach(HOST));
    assertEquals(VolumeState.ONLINE, w.record.visibleState(), w.record.reason().orElse(""));
    w.log.clear();
    return w;
  }

  static String standby(VolumeRecord r) {
    return r.placement().orElseThrow().controllers().stream().filter(c -> c.role() == ControllerRole.STANDBY)
        .map(ControllerPlacement::nodeId).findFirst().orElseThrow();
  }

  static Set<String> diskNodes(VolumeRecord r) {
    return r.placement().orElseThrow().replicas().stream().filter(m -> !r.lostDisks().containsKey(m.diskId()))
        .map(ReplicaPlacement::nodeId).collect(Collectors.toCollection(TreeSet::new));
  }

  static int firstIndex(List<String> log, String prefix) {
    for (int i = 0; i < log.size(); i++) {
      if (log.get(i).startsWith(prefix)) {
        return i;
      }
    }
    return -1;
  }

  /**
   * The active controller's node is lost. Every node here is converged, so its failover starts
   * once the node must have fenced itself (the self-fence timeout later).
   */
  static void loseController(DeciderWorld w, String node) {
    w.feed(new VolumeInput.NodeLost(node, "downed"));
    w.advance(w.healing.selfFenceTimeout());
  }

  /** Finish every rebuild the way a controller would report it: the leg's raid1 in sync. */
  static void reportInSync(DeciderWorld w) {
    for (int leg = 0; leg < w.record.spec().orElseThrow().layout().legs(); leg++) {
      w.raid(w.active(), leg, "A".repeat(w.record.spec().orElseThrow().layout().replicas()), 100);
    }
  }

  @Test
  void the_standby_is_promoted_only_after_every_disk_node_fenced_the_old_controller() {
    DeciderWorld w = onlineVolume("vol-fo", 1, 2);
    String active = w.active();
    String standby = standby(w.record);
    Set<String> fencers = diskNodes(w.record);
    fencers.remove(active);
    String slow = fencers.iterator().next();
    w.silentNodes.add(slow);
    w.deadNodes.add(active);
    loseController(w, active);
    assertEquals(2, w.record.epoch(), "the fencing epoch rose by one");
    assertEquals(Failover.Stage.FENCING_REQUESTED, w.record.healing().failover().orElseThrow().stage());
    assertTrue(w.log.stream().noneMatch(l -> l.endsWith("optimized")), "nothing promotes while " + slow
        + " has not confirmed: " + w.log);
    assertEquals(VolumeState.DEGRADED, w.record.visibleState());

    w.release(slow);
    int promoted = -1;
    for (int i = 0; i < w.log.size() && promoted < 0; i++) {
      if (w.log.get(i).startsWith("applied " + standby) && w.log.get(i).endsWith("optimized")) {
        promoted = i;
      }
    }
    int lastFence = -1;
    for (String node : fencers) {
      int fenced = firstIndex(w.log, "applied " + node + " rev");
      assertTrue(fenced >= 0 && w.log.get(fenced).contains("epoch 2"), node + " applied the fence: " + w.log);
      lastFence = Math.max(lastFence, fenced);
    }
    assertTrue(promoted > lastFence, "promotion after every fence: " + w.log);
    assertTrue(w.log.stream().anyMatch(l -> l.startsWith("applied " + standby) && l.endsWith("epoch 2 optimized")),
        w.log.toString());
    for (String node : fencers) {
      DesiredStateAssert.allowListsExclude(w.appliedStates.get(node), w.node(active).hostNqn());
    }

    assertEquals(standby, w.active(), "the former standby is the active controller");
    String newStandby = standby(w.record);
    assertNotEquals(active, newStandby);
    assertNotEquals(standby, newStandby);
    assertEquals(Failover.Stage.DONE, w.record.healing().failover().orElseThrow().stage());
    assertEquals(1, w.record.healing().promotions());
    reportInSync(w);
    assertEquals(VolumeState.ONLINE, w.record.visibleState(), w.record.reason().orElse(""));
    assertEquals(w.record, w.replayed(), "the journal replays to the same state");
  }

  @Test
  void a_dead_disk_is_rebuilt_elsewhere_degraded_then_rebuilding_then_online() {
    DeciderWorld w = onlineVolume("vol-disk", 2, 2);
    ReplicaPlacement victim = w.record.placement().orElseThrow().replicas().get(1);

    w.feed(new VolumeInput.MemberLost(victim.diskId(), "I/O errors"));
    assertEquals(VolumeState.REBUILDING, w.record.visibleState(), w.record.reason().orElse(""));
    assertTrue(w.log.indexOf("state Degraded") >= 0 && w.log.indexOf("state Degraded") < w.log.indexOf("state Rebuilding"),
        w.log.toString());
    assertTrue(w.record.placement().orElseThrow().replicas().stream().noneMatch(m -> m.diskId().equals(victim.diskId())),
        "no member left on the dead disk");
    ReplicaPlacement replacement = w.record.placement().orElseThrow().replicas().stream()
        .filter(m -> m.leg() == victim.leg() && m.replica() == victim.replica()).findFirst().orElseThrow();
    String otherRack = w.record.placement().orElseThrow().replicas().stream()
        .filter(m -> m.leg() == victim.leg() && m.replica() != victim.replica()).findFirst().orElseThrow().rack();
    assertNotEquals(otherRack, replacement.rack(), "the replacement is in another failure domain than its partner");
    String table = DesiredStateAssert.legTable(w.appliedStates.get(w.active()), VolumeNames.legDm("vol-disk", victim.leg()));
    assertTrue(table.contains("rebuild " + victim.replica()), table);

    w.raid(w.active(), victim.leg(), victim.replica() == 0 ? "aA" : "Aa", 40);
    assertTrue(w.record.reason().orElse("").contains("40%"), w.record.reason().orElse(""));
    assertEquals(-1, firstIndex(w.log, "release " + victim.diskId()), "the dead extent is kept until in sync");

    reportInSync(w);
    assertTrue(firstIndex(w.log, "release " + victim.diskId()) >= 0, w.log.toString());
    assertEquals(VolumeState.ONLINE, w.record.visibleState(), w.record.reason().orElse(""));
    int online = w.log.lastIndexOf("state Online");
    assertTrue(online > w.log.indexOf("state Rebuilding"), w.log.toString());
    String after = DesiredStateAssert.legTable(w.appliedStates.get(w.active()), VolumeNames.legDm("vol-disk", victim.leg()));
    assertFalse(after.contains("rebuild"), "in sync: the table no longer asks for a rebuild: " + after);
  }

  @Test
  void a_manager_restart_while_fencing_resumes_the_fence_and_promotes_once() {
    DeciderWorld w = onlineVolume("vol-rs1", 1, 2);
    String active = w.active();
    Set<String> fencers = diskNodes(w.record);
    fencers.remove(active);
    fencers.forEach(w.silentNodes::add);
    w.deadNodes.add(active);
    loseController(w, active);
    assertEquals(Failover.Stage.FENCING_REQUESTED, w.record.healing().failover().orElseThrow().stage());

    // the manager restarts: the entity recovers from its journal, the fence is asked again
    w.restart();
    w.held.clear();
    w.feed(new VolumeInput.Recovered());
    assertFalse(w.held.isEmpty(), "the fence is sent again after recovery");
    fencers.forEach(w::release);
    assertEquals(Failover.Stage.DONE, w.record.healing().failover().orElseThrow().stage());
    assertEquals(1, w.journal.stream().filter(e -> e instanceof VolumeRecord.FailoverStep f
        && f.event() instanceof Failover.PromotionRequested).count(), "exactly one promotion");
  }

  @Test
  void a_manager_restart_while_promoting_does_not_promote_twice() {
    DeciderWorld w = onlineVolume("vol-rs2", 1, 2);
    String active = w.active();
    String standby = standby(w.record);
    w.slowToPromote.add(standby);
    w.deadNodes.add(active);
    loseController(w, active);
    assertEquals(Failover.Stage.PROMOTION_REQUESTED, w.record.healing().failover().orElseThrow().stage());

    w.restart();
    w.feed(new VolumeInput.Recovered());
    w.feed(new VolumeInput.Tick());
    w.release(standby);
    assertEquals(Failover.Stage.DONE, w.record.healing().failover().orElseThrow().stage());
    assertEquals(1, w.record.healing().promotions());
    assertEquals(standby, w.active());
  }

  @Test
  void a_manager_restart_in_the_middle_of_a_rebuild_completes_it() {
    DeciderWorld w = onlineVolume("vol-rs3", 1, 2);
    ReplicaPlacement victim = w.record.placement().orElseThrow().replicas().get(0);
    w.feed(new VolumeInput.MemberLost(victim.diskId(), "disk gone"));
    assertEquals(VolumeState.REBUILDING, w.record.visibleState());

    w.restart();
    w.feed(new VolumeInput.Recovered());
    reportInSync(w);
    assertEquals(VolumeState.ONLINE, w.record.visibleState(), w.record.reason().orElse(""));
    assertEquals(1, w.journal.stream().filter(e -> e instanceof VolumeRecord.ReplacementPlaced).count(),
        "one replacement, not two");
  }

  @Test
  void a_lost_disk_node_that_was_also_a_controller_fails_over_then_rebuilds_its_members() {
    DeciderWorld w = onlineVolume("vol-conv", 1, 2);
    String active = w.active();
    boolean holdsMember = w.record.placement().orElseThrow().replicas().stream().anyMatch(m -> m.nodeId().equals(active));
    w.deadNodes.add(active);
    w.feed(new VolumeInput.NodeLost(active, "downed"));
    if (holdsMember) {
      // a converged controller is failed over once it must have fenced itself
      w.advance(w.healing.selfFenceTimeout());
    }
    assertEquals(Failover.Stage.DONE, w.record.healing().failover().orElseThrow().stage());
    if (holdsMember) {
      assertEquals(VolumeState.REBUILDING, w.record.visibleState(), w.record.reason().orElse(""));
    }
    reportInSync(w);
    assertEquals(VolumeState.ONLINE, w.record.visibleState(), w.record.reason().orElse(""));
    assertTrue(w.record.placement().orElseThrow().nodes().stream().noneMatch(active::equals),
        "nothing of the volume left on the lost node");
  }

  @Test
  void decisions_are_deterministic_for_the_same_inputs() {
    DeciderWorld a = onlineVolume("vol-det", 2, 2);
    DeciderWorld b = onlineVolume("vol-det", 2, 2);
    String active = a.active();
    for (DeciderWorld w : List.of(a, b)) {
      w.deadNodes.add(active);
      w.feed(new VolumeInput.NodeLost(active, "downed"));
      w.advance(Duration.ofSeconds(1));
    }
    assertEquals(a.journal, b.journal);
    assertEquals(a.log, b.log);
  }

  /** Simulation seed 1 (disk death): the dead member's node kept its slice and export as orphans. */
  @Test
  void a_node_the_volume_no_longer_uses_is_told_to_remove_its_objects() {
    DeciderWorld w = onlineVolume("vol-orphan", 1, 2);
    Set<String> before = new TreeSet<>(w.record.desiredStates().keySet());
    ReplicaPlacement victim = w.record.placement().orElseThrow().replicas().get(0);
    w.feed(new VolumeInput.MemberLost(victim.diskId(), "I/O errors"));
    reportInSync(w);

    Set<String> left = new TreeSet<>(before);
    left.removeAll(w.record.desiredStates().keySet());
    for (String node : left) {
      assertTrue(w.log.stream().anyMatch(l -> l.startsWith("removed " + node + " rev")),
          node + " no longer serves the volume and was told to remove it: " + w.log);
    }
    assertTrue(w.record.draining().isEmpty(), "every removal confirmed: " + w.record.draining());
    assertEquals(VolumeState.ONLINE, w.record.visibleState(), w.record.reason().orElse(""));
    assertEquals(w.record, w.replayed(), "the journal replays to the same state");
  }

  /**
   * Simulation seeds 4, 6 and 14 (crash, partition): the lost member's extent was released while
   * its node, only out of sight, still held the slice; it came back and the extent was granted
   * again underneath it.
   */
  @Test
  void a_lost_nodes_extent_is_released_only_after_that_node_confirms_it_removed_the_slice() {
    DeciderWorld w = onlineVolume("vol-twice", 1, 3);
    Set<String> controllers = w.record.placement().orElseThrow().controllers().stream()
        .map(ControllerPlacement::nodeId).collect(Collectors.toSet());
    ReplicaPlacement victim = w.record.placement().orElseThrow().replicas().stream()
        .filter(m -> !controllers.contains(m.nodeId())).findFirst().orElseThrow();
    w.deadNodes.add(victim.nodeId());
    w.feed(new VolumeInput.NodeLost(victim.nodeId(), "out of sight"));
    reportInSync(w);
    w.feed(new VolumeInput.Tick());
    assertEquals(-1, firstIndex(w.log, "release " + victim.diskId()),
        "the node may come back holding the slice: its extent stays granted: " + w.log);

    w.deadNodes.remove(victim.nodeId());
    w.feed(new VolumeInput.Tick());
    int removed = firstIndex(w.log, "removed " + victim.nodeId());
    int released = firstIndex(w.log, "release " + victim.diskId());
    assertTrue(removed >= 0 && released > removed, "released once the node confirmed the removal: " + w.log);
    assertEquals(w.record, w.replayed(), "the journal replays to the same state");
  }
}
