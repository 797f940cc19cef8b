package io.toma.volume;

import static io.toma.volume.VolumeHealingDecisionTest.onlineVolume;
import static io.toma.volume.VolumeHealingDecisionTest.reportInSync;
import static io.toma.volume.VolumeHealingDecisionTest.standby;
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
import java.util.Set;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;

/**
 * Healing scenarios the seeded simulation found the production decider getting wrong (issue 7),
 * each named after what an operator would see and replayed here as plain decisions. The seed that
 * showed each is in its comment; `./toma simulate --seeds 1 --from S --small --decider --faults ...`
 * replays it.
 */
class VolumeHealingScenariosTest {

  static final long GIB = 1L << 30;

  /** A volume without a standby: a failover has nobody to promote. */
  static DeciderWorld volumeWithoutStandby(String id) {
    DeciderWorld w = new DeciderWorld(id).withRacks(3, 2);
    w.feed(new VolumeInput.Create(new VolumeSpec(id, 8 * GIB, Layout.of(1, 2, 0, FailureDomainLevel.RACK))));
    w.feed(new VolumeInput.Attach(VolumeHealingDecisionTest.HOST));
    assertEquals(VolumeState.ONLINE, w.record.visibleState(), w.record.reason().orElse(""));
    w.log.clear();
    return w;
  }

  /**
   * The first of {@code prefix-0}, {@code prefix-1}, ... whose placement has the shape a scenario
   * needs: placement spreads near-ties by a hash of the volume id, so the id picks the layout.
   */
  static DeciderWorld firstOnline(String prefix, int legs, int replicas,
      java.util.function.Predicate<DeciderWorld> shape) {
    for (int i = 0; i < 50; i++) {
      DeciderWorld w = onlineVolume(prefix + "-" + i, legs, replicas);
      if (shape.test(w)) {
        return w;
      }
    }
    throw new AssertionError("no volume id among " + prefix + "-0..49 gets the layout this scenario needs");
  }

  static boolean holdsMember(DeciderWorld w, String node) {
    return w.record.placement().orElseThrow().replicas().stream().anyMatch(m -> m.nodeId().equals(node));
  }

  /** Seed 6 (control-link cut): the converged active, cut from the manager only, kept writing to its own copies. */
  @Test
  void a_lost_converged_controller_is_failed_over_only_once_it_must_have_fenced_itself() {
    DeciderWorld w = firstOnline("vol-conv", 1, 2, v -> holdsMember(v, v.active()));
    String active = w.active();
    assertTrue(holdsMember(w, active), "the fixture's active holds a member on its own disk");
    w.deadNodes.add(active);

    w.feed(new VolumeInput.NodeLost(active, "downed"));
    assertTrue(w.record.healing().failover().isEmpty(), "no fence yet: the node may still write to its own copy");
    assertEquals(VolumeState.DEGRADED, w.record.visibleState());
    assertEquals(1, w.record.epoch());

    w.advance(w.healing.selfFenceTimeout().minusMillis(1));
    assertTrue(w.record.healing().failover().isEmpty(), "still within the self-fence timeout");
    w.advance(Duration.ofMillis(1));
    assertEquals(Failover.Stage.DONE, w.record.healing().failover().orElseThrow().stage());
    assertNotEquals(active, w.active());
    assertEquals(w.record, w.replayed(), "the journal replays to the same state");
  }

  /** Seeds 2 and 6 (rack loss): a failover without a standby left the volume Online with no active controller. */
  @Test
  void a_volume_whose_failover_found_no_standby_gets_a_new_controller_and_rebuilds_only_then() {
    DeciderWorld w = volumeWithoutStandby("vol-nostandby");
    String active = w.active();
    w.deadNodes.add(active);
    w.feed(new VolumeInput.NodeLost(active, "downed"));
    w.advance(w.healing.selfFenceTimeout());
    assertEquals(Failover.Stage.UNAVAILABLE, w.record.healing().failover().orElseThrow().stage());
    assertEquals("", w.active());
    assertEquals(VolumeState.DEGRADED, w.record.visibleState(), "without an active controller it is not Online");
    assertTrue(w.record.reason().orElse("").startsWith("no active controller"), w.record.reason().orElse(""));
    assertTrue(w.journal.stream().noneMatch(e -> e instanceof VolumeRecord.ReplacementPlaced),
        "no rebuild attaches to a controller that does not exist");

    w.advance(Duration.ofSeconds(1));
    String promoted = w.active();
    assertFalse(promoted.isEmpty(), "a new standby was placed and promoted: " + w.log);
    assertNotEquals(active, promoted);
    assertTrue(w.record.epoch() >= 3, "the fresh failover fenced at a new epoch, got " + w.record.epoch());
    assertTrue(w.log.stream().anyMatch(l -> l.startsWith("applied " + promoted) && l.endsWith("optimized")), w.log.toString());
    reportInSync(w);
    assertEquals(VolumeState.ONLINE, w.record.visibleState(), w.record.reason().orElse(""));
    assertEquals(w.record, w.replayed(), "the journal replays to the same state");
  }

  /** Seed 2: a second failover's fence changed nothing on the disk nodes, so none confirmed it and the copies were given up. */
  @Test
  void a_second_failover_is_confirmed_by_disk_nodes_whose_objects_did_not_change() {
    DeciderWorld w = volumeWithoutStandby("vol-refence");
    String active = w.active();
    w.deadNodes.add(active);
    w.feed(new VolumeInput.NodeLost(active, "downed"));
    w.advance(w.healing.selfFenceTimeout());
    w.advance(Duration.ofSeconds(1));

    Failover.State second = w.record.healing().failover().orElseThrow();
    assertEquals(Failover.Stage.DONE, second.stage(), "promoted without waiting for the fence timeout: " + w.log);
    assertTrue(second.fenceAbandoned().isEmpty(), "every disk node confirmed: " + second.fenceAbandoned());
    assertTrue(w.record.lostMembers().stream().noneMatch(m -> !m.nodeId().equals(active)),
        "no surviving copy was given up: " + w.record.lostMembers());
  }

  /** Seed 19 (link cut): the active's raid1 marked a member failed for good and nothing replaced it. */
  @Test
  void a_member_the_active_raid_marked_failed_for_longer_than_the_grace_window_is_rebuilt_elsewhere() {
    DeciderWorld w = onlineVolume("vol-link", 1, 2);
    String active = w.active();
    ReplicaPlacement far = w.record.placement().orElseThrow().replicas().stream()
        .filter(m -> !m.nodeId().equals(active)).findFirst().orElseThrow();
    String health = far.replica() == 0 ? "DA" : "AD";

    w.raid(active, 0, health, 100);
    assertTrue(w.record.lostDisks().isEmpty(), "a suspect within the grace window, not lost yet");
    w.advance(w.healing.graceWindow().plusSeconds(1)); // it never came back
    w.raid(active, 0, health, 100);
    assertTrue(w.record.lostDisks().containsKey(far.diskId()), "the failed member is lost: " + w.record.reason());
    assertTrue(w.record.placement().orElseThrow().replicas().stream().noneMatch(m -> m.diskId().equals(far.diskId())),
        "a replacement took its slot");
    reportInSync(w);
    assertEquals(VolumeState.ONLINE, w.record.visibleState(), w.record.reason().orElse(""));
  }

  /** Seed 8: a controller cut off by a partition reported every remote member failed, and the last copies were given up. */
  @Test
  void a_raid_report_never_gives_up_the_last_copies_of_a_leg_nor_comes_from_a_lost_controller() {
    DeciderWorld w = onlineVolume("vol-lastcopy", 1, 2);
    String active = w.active();
    w.raid(active, 0, "DD", 100);
    assertTrue(w.record.lostDisks().isEmpty(), "no healthy member left in the report: nothing is given up");

    DeciderWorld cut = onlineVolume("vol-cutoff", 1, 2);
    String cutActive = cut.active();
    cut.deadNodes.add(cutActive);
    cut.feed(new VolumeInput.NodeLost(cutActive, "downed"));
    long lostBefore = cut.record.lostDisks().size();
    cut.raid(cutActive, 0, "AD", 100);
    assertEquals(lostBefore, cut.record.lostDisks().size(), "what a lost controller saw says nothing of the members");
  }

  /** Seed 54 (link cut): releasing one rebuilt member's old extent also released another still held on that disk. */
  @Test
  void releasing_a_rebuilt_members_old_extent_keeps_the_others_still_held_on_that_disk() {
    DeciderWorld w = new DeciderWorld("vol-keep").withRacks(2, 1); // two disks: each holds one member of both legs
    w.feed(new VolumeInput.Create(new VolumeSpec("vol-keep", 8 * GIB, Layout.of(2, 2, 0, FailureDomainLevel.RACK))));
    w.feed(new VolumeInput.Attach(VolumeHealingDecisionTest.HOST));
    DeciderWorld third = new DeciderWorld("spare").withRacks(3, 1); // a third rack, for the replacements
    third.nodes.stream().filter(n -> n.nodeId().startsWith("r3")).forEach(w.nodes::add);
    third.disks.stream().filter(d -> d.nodeId().startsWith("r3")).forEach(w.disks::add);
    String active = w.active();
    ReplicaPlacement far = w.record.placement().orElseThrow().replicas().stream()
        .filter(m -> !m.nodeId().equals(active)).findFirst().orElseThrow();
    w.silentNodes.add(far.nodeId()); // it does not confirm it dropped the old slices yet
    w.feed(new VolumeInput.MemberLost(far.diskId(), "I/O errors"));
    assertEquals(2, w.record.healing().rebuilds().size(), "both legs lost a member on " + far.diskId());

    w.raid(active, 0, far.replica() == 0 ? "aA" : "Aa", 100); // leg 0 in sync, leg 1 not yet
    w.release(far.nodeId());
    Outbound.ReleaseExtents first = w.releases.stream().filter(r -> r.diskId().equals(far.diskId()))
        .findFirst().orElseThrow(() -> new AssertionError("leg 0's old extent is released: " + w.log));
    assertTrue(first.keepTags().stream().anyMatch(t -> t.startsWith("l1")),
        "leg 1's old extent stays granted while its rebuild runs: " + first);
    reportInSync(w);
    assertEquals(VolumeState.ONLINE, w.record.visibleState(), w.record.reason().orElse(""));
  }

  /** Seeds 37, 230, 274 (partition): a replacement lost before it was in sync stalled its rebuild for good. */
  @Test
  void a_replacement_lost_before_it_is_in_sync_is_placed_again_and_its_extent_waits_for_its_node() {
    // The lost replacement's node must not also hold the standby: that loss is another scenario.
    DeciderWorld w = firstOnline("vol-replost", 1, 2, v -> {
      DeciderWorld probe = onlineVolume(v.volumeId, 1, 2);
      String probeActive = probe.active();
      ReplicaPlacement lost = probe.record.placement().orElseThrow().replicas().stream()
          .filter(m -> !m.nodeId().equals(probeActive)).findFirst().orElseThrow();
      probe.feed(new VolumeInput.MemberLost(lost.diskId(), "I/O errors"));
      return probe.record.placement().orElseThrow().replicas().stream()
          .filter(m -> m.replica() == lost.replica()).noneMatch(m -> m.nodeId().equals(standby(probe.record)));
    });
    String active = w.active();
    ReplicaPlacement far = w.record.placement().orElseThrow().replicas().stream()
        .filter(m -> !m.nodeId().equals(active)).findFirst().orElseThrow();
    w.feed(new VolumeInput.MemberLost(far.diskId(), "I/O errors"));
    ReplicaPlacement first = w.record.placement().orElseThrow().replicas().stream()
        .filter(m -> m.replica() == far.replica()).findFirst().orElseThrow();
    assertNotEquals(far.diskId(), first.diskId());

    w.deadNodes.add(first.nodeId());
    w.feed(new VolumeInput.NodeLost(first.nodeId(), "out of sight"));
    ReplicaPlacement second = w.record.placement().orElseThrow().replicas().stream()
        .filter(m -> m.replica() == far.replica()).findFirst().orElseThrow();
    assertNotEquals(first.nodeId(), second.nodeId(), "a new replacement elsewhere: " + w.record.reason());
    // default-shape seed 115: the next replacement reused the abandoned one's tag (its devices, its NQN)
    assertNotEquals(first.tag(), second.tag(), "a new generation for the next attempt");
    assertTrue(w.record.healing().abandoned().containsKey(first.tag()));
    assertTrue(w.releases.stream().noneMatch(r -> r.diskId().equals(first.diskId())),
        "the abandoned replacement's node may still hold its slice: " + w.releases);

    reportInSync(w);
    assertEquals(VolumeState.ONLINE, w.record.visibleState(), w.record.reason().orElse(""));
    w.deadNodes.remove(first.nodeId());
    w.feed(new VolumeInput.Tick());
    assertTrue(w.releases.stream().anyMatch(r -> r.diskId().equals(first.diskId()) && !r.keepTags().contains(first.tag())),
        "released once its node removed the volume: " + w.releases);
    assertTrue(w.record.healing().abandoned().isEmpty());
    assertEquals(w.record, w.replayed(), "the journal replays to the same state");
  }

  /**
   * The lead's finding (placement spreading near-ties by volume id, {@code vol-replost}): the node
   * that held both the standby and the unsynced replacement was lost, and the volume showed
   * Provisioning, waiting for that dead node's acknowledgement, even once the next replacement was
   * in sync.
   */
  @Test
  void losing_the_node_with_the_standby_and_an_unsynced_replacement_does_not_leave_the_volume_provisioning() {
    DeciderWorld w = firstOnline("vol-replost", 1, 2, v -> {
      DeciderWorld probe = onlineVolume(v.volumeId, 1, 2);
      String probeActive = probe.active();
      ReplicaPlacement lost = probe.record.placement().orElseThrow().replicas().stream()
          .filter(m -> !m.nodeId().equals(probeActive)).findFirst().orElseThrow();
      probe.feed(new VolumeInput.MemberLost(lost.diskId(), "I/O errors"));
      return probe.record.placement().orElseThrow().replicas().stream()
          .filter(m -> m.replica() == lost.replica()).anyMatch(m -> m.nodeId().equals(standby(probe.record)));
    });
    String active = w.active();
    ReplicaPlacement far = w.record.placement().orElseThrow().replicas().stream()
        .filter(m -> !m.nodeId().equals(active)).findFirst().orElseThrow();
    w.feed(new VolumeInput.MemberLost(far.diskId(), "I/O errors"));
    ReplicaPlacement first = w.record.placement().orElseThrow().replicas().stream()
        .filter(m -> m.replica() == far.replica()).findFirst().orElseThrow();
    assertEquals(standby(w.record), first.nodeId(), "the fixture's replacement shares the standby's node");

    w.deadNodes.add(first.nodeId());
    w.feed(new VolumeInput.NodeLost(first.nodeId(), "out of sight"));
    ReplicaPlacement second = w.record.placement().orElseThrow().replicas().stream()
        .filter(m -> m.replica() == far.replica()).findFirst().orElseThrow();
    assertNotEquals(first.nodeId(), second.nodeId(), "a new replacement elsewhere: " + w.record.reason());
    assertEquals(active, w.active(), "losing the standby moves no writer");

    reportInSync(w);
    // the lost standby left the placement (a new standby was placed): its node is owed a removal
    assertFalse(w.record.nodesBehind().contains(first.nodeId()), "the dead node holds no role any more");
    assertTrue(w.record.draining().containsKey(first.nodeId()), "the dead node is sent Remove should it return");
    assertEquals(VolumeState.ONLINE, w.record.visibleState(), w.record.reason().orElse(""));

    w.deadNodes.remove(first.nodeId());
    w.feed(new VolumeInput.Tick());
    assertFalse(w.record.draining().containsKey(first.nodeId()), "the returned node removed what it held");
    assertEquals(VolumeState.ONLINE, w.record.visibleState(), w.record.reason().orElse(""));
    assertEquals(w.record, w.replayed(), "the journal replays to the same state");
  }

  /**
   * Issue 7: a self-fenced agent lifts its fence only on a revision newer than the one it fenced
   * at; the decider used to resend the same one, and a controller that fenced itself and came back
   * stayed fenced for good.
   */
  @Test
  void a_controller_seen_again_after_a_fence_gets_a_newer_revision_of_the_same_desired_state() {
    DeciderWorld w = onlineVolume("vol-seen", 1, 2);
    String active = w.active();
    long held = w.record.desiredRevisions().get(active);
    var before = w.record.desiredStates().get(active);

    w.feed(new VolumeInput.NodeSeenAgain(active));

    assertTrue(w.record.desiredRevisions().get(active) > held, "a newer revision lifts its fence");
    assertEquals(before, w.record.desiredStates().get(active), "the same role: nothing moved");
    assertEquals(active, w.active());
    assertTrue(w.log.stream().anyMatch(l -> l.startsWith("applied " + active + " rev "
        + w.record.desiredRevisions().get(active) + " epoch 1 optimized")), "sent to it: " + w.log);
    assertEquals(VolumeState.ONLINE, w.record.visibleState(), w.record.reason().orElse(""));
    assertEquals(w.record, w.replayed(), "the journal replays to the same state");
  }

  @Test
  void a_controller_seen_again_while_its_volume_fails_over_gets_nothing_that_would_unfence_it() {
    DeciderWorld w = firstOnline("vol-seen-fo", 1, 2, v -> holdsMember(v, v.active()));
    String active = w.active();
    w.deadNodes.add(active);
    w.feed(new VolumeInput.NodeLost(active, "downed")); // converged: the failover waits for its self-fence
    assertTrue(w.record.healing().deferred().isPresent(), "the fixture's active holds a member");
    long revision = w.record.revision();

    w.deadNodes.remove(active);
    w.feed(new VolumeInput.NodeSeenAgain(active));

    assertEquals(revision, w.record.revision(), "no new revision while its failover is pending");
  }

  /** Issue 7 (journal growth): an unplaceable rebuild wrote a refused-replacement pair every tick, forever. */
  @Test
  void a_rebuild_that_cannot_be_placed_persists_its_refusal_once_and_is_placed_when_a_rack_comes() {
    DeciderWorld w = new DeciderWorld("vol-noroom").withRacks(2, 1); // no third rack for a replacement
    w.feed(new VolumeInput.Create(new VolumeSpec("vol-noroom", 8 * GIB, Layout.of(1, 2, 0, FailureDomainLevel.RACK))));
    w.feed(new VolumeInput.Attach(VolumeHealingDecisionTest.HOST));
    String active = w.active();
    ReplicaPlacement far = w.record.placement().orElseThrow().replicas().stream()
        .filter(m -> !m.nodeId().equals(active)).findFirst().orElseThrow();
    w.feed(new VolumeInput.MemberLost(far.diskId(), "I/O errors"));
    assertTrue(w.record.healing().rebuilds().get(far.tag()).lastRefusal().isPresent(), "refused: no other rack");
    int journaled = w.journal.size();

    for (int i = 0; i < 30; i++) {
      w.advance(Duration.ofSeconds(2));
    }
    assertEquals(journaled, w.journal.size(), "the same refusal is not persisted again: " + w.journal.subList(
        journaled, w.journal.size()));

    DeciderWorld spare = new DeciderWorld("spare").withRacks(3, 1);
    spare.nodes.stream().filter(n -> n.nodeId().startsWith("r3")).forEach(w.nodes::add);
    spare.disks.stream().filter(d -> d.nodeId().startsWith("r3")).forEach(w.disks::add);
    w.advance(Duration.ofSeconds(2));
    assertTrue(w.record.placement().orElseThrow().replicas().stream().anyMatch(m -> m.nodeId().equals("r3n1")),
        "retried in memory all along: placed as soon as a rack has room: " + w.record.reason());
    reportInSync(w);
    assertEquals(VolumeState.ONLINE, w.record.visibleState(), w.record.reason().orElse(""));
    assertEquals(w.record, w.replayed(), "the journal replays to the same state");
  }

  /** Default-shape seed 66 (link cut): a replacement was granted on a disk lost while the grant was on its way. */
  @Test
  void a_replacement_granted_on_a_disk_lost_meanwhile_is_given_back_and_placed_again() {
    DeciderWorld w = new DeciderWorld("vol-meanwhile").withRacks(3, 1);
    w.feed(new VolumeInput.Create(new VolumeSpec("vol-meanwhile", 8 * GIB, Layout.of(2, 2, 0, FailureDomainLevel.RACK))));
    w.feed(new VolumeInput.Attach(VolumeHealingDecisionTest.HOST));
    String active = w.active();
    ReplicaPlacement victim = w.record.placement().orElseThrow().replicas().stream()
        .filter(m -> !m.nodeId().equals(active)).findFirst().orElseThrow();
    java.util.List<String> struck = new java.util.ArrayList<>();
    w.beforeReplacementAnswer = r -> {
      if (struck.isEmpty()) {
        struck.add(r.disk().diskId());
        w.inbox.add(new VolumeInput.MemberLost(r.disk().diskId(), "I/O errors"));
      }
    };
    w.feed(new VolumeInput.MemberLost(victim.diskId(), "I/O errors"));

    String lostMeanwhile = struck.get(0);
    assertTrue(w.record.lostDisks().containsKey(lostMeanwhile), "the fixture's replacement disk held a member too");
    assertTrue(w.record.placement().orElseThrow().replicas().stream()
            .noneMatch(m -> m.diskId().equals(lostMeanwhile) && w.record.healing().rebuildingTags().contains(m.tag())),
        "no replacement stays on a lost disk: " + w.record.placement().orElseThrow().replicas());
    assertTrue(w.releases.stream().anyMatch(r -> r.diskId().equals(lostMeanwhile)), "the grant was given back");
  }

  /** Seed 26 (node crashes): every controller node had been lost once, so none was left for a new controller. */
  @Test
  void a_lost_node_that_came_back_and_holds_nothing_of_the_volume_may_host_it_again() {
    DeciderWorld w = volumeWithoutStandby("vol-back");
    String active = w.active();
    w.deadNodes.add(active);
    w.feed(new VolumeInput.NodeLost(active, "downed"));
    w.advance(w.healing.selfFenceTimeout());
    w.advance(Duration.ofSeconds(1));
    reportInSync(w);
    assertTrue(w.record.healing().lostNodes().contains(active));

    w.deadNodes.remove(active); // it boots again and answers the removal it is sent
    w.advance(Duration.ofSeconds(1));
    w.advance(Duration.ofSeconds(1));
    assertFalse(w.record.healing().lostNodes().contains(active), "a candidate again: " + w.record.healing().lostNodes());
    assertTrue(w.journal.stream().anyMatch(e -> e instanceof VolumeRecord.LostNodeReturned r && r.nodeId().equals(active)));
    assertEquals(VolumeState.ONLINE, w.record.visibleState(), w.record.reason().orElse(""));
  }

  /** Rack loss test (crash first): raid1 failed the member before the node's loss arrived, so the loss was ignored. */
  @Test
  void a_node_lost_after_its_member_was_already_replaced_is_dropped_from_the_active_controllers_connections() {
    DeciderWorld w = onlineVolume("vol-retired", 1, 2);
    String active = w.active();
    ReplicaPlacement far = w.record.placement().orElseThrow().replicas().stream()
        .filter(m -> !m.nodeId().equals(active)).findFirst().orElseThrow();
    w.feed(new VolumeInput.MemberLost(far.diskId(), "raid1 marked it failed"));
    assertTrue(w.record.healing().retired().containsKey(far.tag()), "the lost member is retired: " + w.record.healing());
    assertTrue(connectsTo(w, active, far), "until its node is known lost the active keeps its connection");

    w.deadNodes.add(far.nodeId());
    w.feed(new VolumeInput.NodeLost(far.nodeId(), "downed"));
    assertTrue(w.record.healing().lostNodes().contains(far.nodeId()), "the node's loss is noted");
    assertFalse(connectsTo(w, active, far), "no connection to a member on a lost node");
    assertEquals(w.record, w.replayed(), "the journal replays to the same state");
  }

  /**
   * Rack loss test (crash first), a run where the replacement was in sync before the node's loss
   * arrived: the node held nothing of the volume any more but still owed the removal of the old
   * slice, so the loss was ignored and the volume stayed Rebuilding, waiting for a dead node.
   */
  @Test
  void a_node_lost_after_its_replaced_member_is_in_sync_no_longer_keeps_the_volume_waiting_for_it() {
    DeciderWorld w = firstOnline("vol-drained", 1, 2, v -> {
      String a = v.active();
      return v.record.placement().orElseThrow().replicas().stream().filter(m -> !m.nodeId().equals(a))
          .noneMatch(m -> m.nodeId().equals(standby(v.record)));
    });
    String active = w.active();
    ReplicaPlacement far = w.record.placement().orElseThrow().replicas().stream()
        .filter(m -> !m.nodeId().equals(active)).findFirst().orElseThrow();
    w.deadNodes.add(far.nodeId()); // it crashed: it never answers the removal of the old slice
    w.feed(new VolumeInput.MemberLost(far.diskId(), "raid1 marked it failed"));
    reportInSync(w);
    assertTrue(w.record.draining().containsKey(far.nodeId()), "the old member's node owes the slice's removal");
    assertEquals(VolumeState.REBUILDING, w.record.visibleState(), w.record.reason().orElse(""));

    w.feed(new VolumeInput.NodeLost(far.nodeId(), "downed"));
    assertTrue(w.record.healing().lostNodes().contains(far.nodeId()), "the node's loss is noted");
    assertEquals(VolumeState.ONLINE, w.record.visibleState(), w.record.reason().orElse(""));
    assertEquals(w.record, w.replayed(), "the journal replays to the same state");
  }

  static boolean connectsTo(DeciderWorld w, String controller, ReplicaPlacement member) {
    String nqn = VolumeNames.memberNqn(w.volumeId, member.tag());
    return w.record.desiredStates().get(controller).connections().stream()
        .anyMatch(c -> c.subsystemNqn().equals(nqn));
  }
}
