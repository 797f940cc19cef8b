package io.toma.volume;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.toma.healing.Rebuild;
import io.toma.topology.ControllerPlacement;
import io.toma.topology.ControllerRole;
import io.toma.topology.DiskFacts;
import io.toma.topology.FailureDomainLevel;
import io.toma.topology.Layout;
import io.toma.topology.NodeFacts;
import io.toma.topology.ReplicaPlacement;
import io.toma.topology.VolumeSpec;
import io.toma.topology.VolumeState;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;

/**
 * Link loss and a controller a majority cannot see, decided by one volume ({@link VolumeLinkHealer}
 * through the decider) in a single-threaded world: three racks, each with a disk-only node (rNd)
 * and a controller-only node (rNc), as a disaggregated deployment has them.
 */
class VolumeLinkHealingDecisionTest {

  static final long GIB = 1L << 30;

  static DeciderWorld disaggregated(String id) {
    DeciderWorld w = new DeciderWorld(id);
    for (int r = 1; r <= 3; r++) {
      String d = "r" + r + "d";
      String c = "r" + r + "c";
      w.nodes.add(new NodeFacts(d, Set.of("disk"), "z1", "rack" + r, "10.0." + r + ".1",
          "nqn.2026-11.io.toma:host:" + d, false, 0));
      w.nodes.add(new NodeFacts(c, Set.of("controller"), "z1", "rack" + r, "10.0." + r + ".2",
          "nqn.2026-11.io.toma:host:" + c, false, 0));
      w.disks.add(new DiskFacts(d + "-d0", d, "z1", "rack" + r, 1L << 40, 1L << 40, true));
    }
    w.feed(new VolumeInput.Create(new VolumeSpec(id, 8 * GIB, Layout.of(1, 2, 1, FailureDomainLevel.RACK))));
    w.feed(new VolumeInput.Attach("nqn.2026-11.io.toma:host:app1"));
    assertEquals(VolumeState.ONLINE, w.record.visibleState(), w.record.reason().orElse(""));
    w.log.clear();
    return w;
  }

  static List<ReplicaPlacement> members(DeciderWorld w) {
    return w.record.placement().orElseThrow().replicas();
  }

  static String standby(DeciderWorld w) {
    return w.record.placement().orElseThrow().controllers().stream().filter(c -> c.role() == ControllerRole.STANDBY)
        .map(ControllerPlacement::nodeId).findFirst().orElseThrow();
  }

  @Test
  void a_link_lost_from_the_active_to_one_disk_node_rebuilds_exactly_its_member_elsewhere_without_a_failover() {
    DeciderWorld w = disaggregated("vol-link");
    String active = w.active();
    ReplicaPlacement victim = members(w).get(0);
    long epoch = w.record.epoch();

    VolumeInput.LinkLost lost = new VolumeInput.LinkLost(active, victim.nodeId(), "unreachable for 10000 ms",
        Set.of(active + "->" + victim.nodeId()));
    w.feed(lost);
    w.feed(lost); // the same fault again (a second router, a repeated report) adds nothing

    assertEquals(Set.of(victim.tag()), w.record.healing().rebuilds().keySet(), "one rebuild, for that member only");
    assertEquals(epoch, w.record.epoch(), "no failover: the active still reads the leg");
    assertEquals(active, w.active());
    String replacementNode = members(w).stream().filter(m -> m.replica() == victim.replica()).findFirst()
        .orElseThrow().nodeId();
    assertNotEquals(victim.nodeId(), replacementNode, "the replacement is placed where the active can reach it");
  }

  @Test
  void a_link_from_a_standby_changes_nothing_now() {
    DeciderWorld w = disaggregated("vol-link-standby");
    String standby = standby(w);
    String peer = members(w).get(0).nodeId();
    w.feed(new VolumeInput.LinkLost(standby, peer, "unreachable", Set.of(standby + "->" + peer)));
    assertTrue(w.record.healing().rebuilds().isEmpty());
    assertFalse(w.record.healing().failingOver());
  }

  @Test
  void an_active_cut_off_from_a_whole_leg_fails_over_to_the_standby_that_reaches_it_fence_first() {
    DeciderWorld w = disaggregated("vol-link-fo");
    String active = w.active();
    String standby = standby(w);
    Set<String> cut = members(w).stream().map(m -> active + "->" + m.nodeId()).collect(Collectors.toCollection(TreeSet::new));

    w.feed(new VolumeInput.LinkLost(active, members(w).get(0).nodeId(), "unreachable", cut));

    assertEquals(standby, w.active(), "the standby reaches every member: it is active now");
    assertEquals(1, w.record.healing().promotions(), "promoted once");
    assertTrue(w.record.healing().rebuilds().isEmpty(), "the members are fine: nothing to rebuild");
    int promotion = VolumeHealingDecisionTest.firstIndex(w.log, "applied " + standby);
    for (String diskNode : members(w).stream().map(ReplicaPlacement::nodeId).collect(Collectors.toSet())) {
      int fence = VolumeHealingDecisionTest.firstIndex(w.log, "applied " + diskNode);
      assertTrue(fence >= 0 && fence < promotion, "disk node " + diskNode + " fenced before the promotion: " + w.log);
    }
    assertTrue(w.log.stream().noneMatch(l -> l.startsWith("applied " + active) && l.endsWith("optimized")),
        "the old active, alive behind its cut links, is never made optimized again: " + w.log);
  }

  @Test
  void a_controller_only_active_a_majority_cannot_see_fails_over_before_downing_with_the_fence_first() {
    DeciderWorld w = disaggregated("vol-unreach");
    String active = w.active();
    String standby = standby(w);
    long epoch = w.record.epoch();

    w.feed(new VolumeInput.ControllerUnreachable(active, "unreachable by a majority for 1000 ms"));

    assertEquals(epoch + 1, w.record.epoch());
    assertEquals(standby, w.active());
    assertEquals(1, w.record.healing().promotions());
    int promotion = VolumeHealingDecisionTest.firstIndex(w.log, "applied " + standby);
    for (ReplicaPlacement m : members(w)) {
      int fence = VolumeHealingDecisionTest.firstIndex(w.log, "applied " + m.nodeId() + " rev");
      assertTrue(fence >= 0 && fence < promotion, "fence at " + m.nodeId() + " before the promotion: " + w.log);
    }
    assertTrue(w.record.healing().rebuilds().isEmpty(), "nothing is rebuilt on unreachability alone");

    // the node was only unreachable: it comes back, then SBR never downs it; a later loss report
    // (had it been downed after all) starts no second promotion
    w.feed(new VolumeInput.NodeLost(active, "downed"));
    assertEquals(1, w.record.healing().promotions(), "no second promotion");
    assertTrue(w.log.stream().noneMatch(l -> l.startsWith("applied " + active) && l.endsWith("optimized")), w.log.toString());
  }

  @Test
  void a_converged_active_a_majority_cannot_see_is_left_until_it_must_have_fenced_itself() {
    DeciderWorld w = new DeciderWorld("vol-conv").withRacks(3, 1); // every node holds disks and controllers
    w.feed(new VolumeInput.Create(new VolumeSpec("vol-conv", 8 * GIB, Layout.of(1, 2, 1, FailureDomainLevel.RACK))));
    w.feed(new VolumeInput.Attach("nqn.2026-11.io.toma:host:app1"));
    String active = w.active();
    boolean holdsMember = members(w).stream().anyMatch(m -> m.nodeId().equals(active));
    long epoch = w.record.epoch();

    w.feed(new VolumeInput.ControllerUnreachable(active, "unreachable by a majority for 1000 ms"));

    if (holdsMember) {
      assertEquals(epoch, w.record.epoch(), "a converged active is not failed over on unreachability");
      assertEquals(active, w.active());
    } else {
      assertEquals(epoch + 1, w.record.epoch(), "no member on the active's node: it fails over early");
    }
    assertTrue(w.record.healing().rebuilds().isEmpty());
  }

  @Test
  void a_rebuild_started_by_a_link_loss_finishes_like_any_other() {
    DeciderWorld w = disaggregated("vol-link-done");
    String active = w.active();
    ReplicaPlacement victim = members(w).get(0);
    w.feed(new VolumeInput.LinkLost(active, victim.nodeId(), "unreachable", Set.of(active + "->" + victim.nodeId())));
    VolumeHealingDecisionTest.reportInSync(w);
    w.advance(java.time.Duration.ofSeconds(1));
    assertEquals(Rebuild.Stage.DONE, w.record.healing().rebuilds().get(victim.tag()).stage(), w.log.toString());
    assertEquals(VolumeState.ONLINE, w.record.visibleState());
  }
}
