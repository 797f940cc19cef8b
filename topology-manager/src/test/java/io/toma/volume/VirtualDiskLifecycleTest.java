package io.toma.volume;

import static io.toma.testing.TestTopology.GIB;
import static io.toma.testing.TestTopology.WAIT;
import static io.toma.testing.TestTopology.ok;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.toma.agent.AgentProtocol;
import io.toma.disk.PhysicalDisk;
import org.apache.pekko.cluster.sharding.typed.javadsl.ClusterSharding;
import io.toma.testing.TestTopology;
import io.toma.topology.FailureDomainLevel;
import io.toma.topology.Layout;
import io.toma.topology.TopologyResult;
import io.toma.topology.VolumeSpec;
import io.toma.topology.VolumeView;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import org.apache.pekko.actor.testkit.typed.javadsl.TestProbe;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.TestMethodOrder;
import org.junit.jupiter.api.Test;

/**
 * A manager with four storage nodes whose agents are test probes. The tests share the cluster;
 * the one that loses a disk runs last, so no other test meets a degraded volume.
 */
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class VirtualDiskLifecycleTest {

  // The agents here are probes that never apply an attach, so no rebuild ever finishes: with the
  // cluster-wide caps (2 per disk) the lost-disk test's later rebuilds would wait for ever behind
  // the first ones. The caps are the healing tests' subject (RebuildPermitsTest and end to end).
  static final TestTopology topology = new TestTopology("VirtualDiskLifecycleTest", TestTopology.fastSettings(),
      io.toma.healing.HealingSettings.defaults().withRebuildCaps(100, 100));
  static final Map<String, TestProbe<AgentProtocol.Command>> agents = new TreeMap<>();
  static final long DISK = 1024 * GIB;
  static final String HOST = "nqn.2014-08.org.nvmexpress:uuid:0f0e0d0c-host-a";

  static {
    for (int i = 1; i <= 4; i++) {
      agents.put("n" + i, topology.node("n" + i, "z1", "r" + i, Set.of("disk", "controller"), DISK));
    }
    topology.awaitRegistered(4, 4);
  }

  @AfterAll
  static void shutdown() {
    topology.close();
  }

  static VolumeSpec spec(String name, int replicas, int standbys, FailureDomainLevel level) {
    return new VolumeSpec(name, 16 * GIB, Layout.of(1, replicas, standbys, level));
  }

  static Set<String> nodesOf(VolumeView v) {
    Set<String> nodes = new TreeSet<>();
    v.legs().forEach(l -> l.replicas().forEach(r -> nodes.add(r.node())));
    v.controllers().forEach(c -> nodes.add(c.node()));
    return nodes;
  }

  /** The next Apply for this volume (messages about other volumes are skipped). */
  static AgentProtocol.Apply nextApply(String node, String volume) {
    while (true) {
      AgentProtocol.Command m = agents.get(node).receiveMessage(WAIT);
      if (m instanceof AgentProtocol.Apply a && a.volumeId().equals(volume)) {
        return a;
      }
    }
  }

  static AgentProtocol.Remove nextRemove(String node, String volume) {
    while (true) {
      AgentProtocol.Command m = agents.get(node).receiveMessage(WAIT);
      if (m instanceof AgentProtocol.Remove r && r.volumeId().equals(volume)) {
        return r;
      }
    }
  }

  static void acknowledge(String node, String volume) {
    AgentProtocol.Apply apply = nextApply(node, volume);
    apply.replyTo().tell(new AgentProtocol.Applied(node, volume, apply.revision()));
  }

  static VolumeView awaitState(String volume, String state) {
    TestProbe<Object> probe = topology.testKit.createTestProbe();
    return probe.awaitAssert(WAIT, () -> {
      VolumeView v = ok(topology.service.getVolume(volume));
      assertEquals(state, v.state(), "reason: " + v.reason());
      return v;
    });
  }

  @Test
  void aVolumeBecomesOnlineOnceEveryNodeAgentAcknowledgedItsRevision() {
    VolumeView created = ok(topology.service.createVolume(spec("vol-online", 2, 1, FailureDomainLevel.NODE)));
    assertEquals("Provisioning", created.state());
    assertEquals(2, created.legs().get(0).replicas().size());
    assertEquals(2, created.controllers().size());
    assertFalse(created.controllers().get(0).node().equals(created.controllers().get(1).node()),
        "the standby is never on the active's node");
    for (String node : nodesOf(created)) {
      acknowledge(node, "vol-online");
    }
    VolumeView online = awaitState("vol-online", "Online");
    assertTrue(online.reason().isEmpty());
  }

  @Test
  void aVolumeStaysProvisioningAndApplyIsSentAgainWhileOneAgentDoesNotAnswer() {
    VolumeView created = ok(topology.service.createVolume(spec("vol-silent", 2, 0, FailureDomainLevel.NODE)));
    Set<String> nodes = nodesOf(created);
    String silent = nodes.iterator().next();
    nodes.stream().filter(n -> !n.equals(silent)).forEach(n -> acknowledge(n, "vol-silent"));
    AgentProtocol.Apply first = nextApply(silent, "vol-silent");
    AgentProtocol.Apply again = nextApply(silent, "vol-silent");
    assertEquals(first.revision(), again.revision());
    assertEquals(first.desired(), again.desired());
    VolumeView waiting = ok(topology.service.getVolume("vol-silent"));
    assertEquals("Provisioning", waiting.state());
    assertTrue(waiting.reason().orElseThrow().contains(silent + " to apply revision " + first.revision()),
        waiting.reason().orElseThrow());
    again.replyTo().tell(new AgentProtocol.Applied(silent, "vol-silent", again.revision()));
    awaitState("vol-silent", "Online");
  }

  @Test
  void attachingAHostReconfiguresOnlyTheControllersAndExportsTheVolumeToThatHost() {
    VolumeView created = ok(topology.service.createVolume(spec("vol-attach", 2, 1, FailureDomainLevel.NODE)));
    nodesOf(created).forEach(n -> acknowledge(n, "vol-attach"));
    awaitState("vol-attach", "Online");

    VolumeView attached = ok(topology.service.attach("vol-attach", HOST));
    assertEquals(java.util.List.of(HOST), attached.attachments());
    assertEquals("Provisioning", attached.state());
    Set<String> controllers = new TreeSet<>();
    attached.controllers().forEach(c -> controllers.add(c.node()));
    String reason = attached.reason().orElseThrow();
    for (String node : nodesOf(attached)) {
      assertEquals(controllers.contains(node), reason.contains(node + " to apply"), reason);
    }
    for (String node : controllers) {
      AgentProtocol.Apply apply = nextApply(node, "vol-attach");
      assertTrue(apply.desired().subsystems().stream().anyMatch(s ->
          s.nqn().equals("nqn.2026-11.io.toma:vol-attach") && s.allowedHosts().equals(java.util.List.of(HOST))));
      apply.replyTo().tell(new AgentProtocol.Applied(node, "vol-attach", apply.revision()));
    }
    awaitState("vol-attach", "Online");
    VolumeView again = ok(topology.service.attach("vol-attach", HOST));
    assertEquals("Online", again.state(), "attaching the same host again changes nothing");
    assertEquals(attached.attachments(), again.attachments());
  }

  @Test
  void aRetriedCreateReturnsTheSameVolumeAndAnotherSpecUnderTheSameNameConflicts() {
    VolumeView first = ok(topology.service.createVolume(spec("vol-retry", 2, 0, FailureDomainLevel.NODE)));
    VolumeView again = ok(topology.service.createVolume(spec("vol-retry", 2, 0, FailureDomainLevel.NODE)));
    assertEquals(first.legs(), again.legs());
    TopologyResult<VolumeView> other = topology.service.createVolume(
        new VolumeSpec("vol-retry", 32 * GIB, Layout.of(1, 2, 0, FailureDomainLevel.NODE))).toCompletableFuture().join();
    assertInstanceOf(TopologyResult.Conflict.class, other);
  }

  @Test
  void anImpossiblePlacementSaysWhichConstraintFailedAndWhatWasFound() {
    TopologyResult<VolumeView> result = topology.service.createVolume(spec("vol-zones", 2, 0, FailureDomainLevel.ZONE))
        .toCompletableFuture().join();
    TopologyResult.PlacementFailed<VolumeView> failed = assertInstanceOf(TopologyResult.PlacementFailed.class, result);
    assertTrue(failed.message().startsWith("replicas=2 at level zone needs 2 zones with 16.0 GiB free each"), failed.message());
    assertTrue(failed.message().contains("1 qualifies: z1"), failed.message());
    assertInstanceOf(TopologyResult.NotFound.class, topology.service.getVolume("vol-zones").toCompletableFuture().join(),
        "a volume that could not be placed does not exist");
  }

  @Test
  void cordonedNodesGetNoNewPlacements() {
    ok(topology.service.cordon("n1"));
    ok(topology.service.cordon("n2"));
    try {
      TopologyResult<VolumeView> result = topology.service.createVolume(spec("vol-cordon", 3, 0, FailureDomainLevel.NODE))
          .toCompletableFuture().join();
      TopologyResult.PlacementFailed<VolumeView> failed = assertInstanceOf(TopologyResult.PlacementFailed.class, result);
      assertTrue(failed.message().contains("node cordoned"), failed.message());
      VolumeView placed = ok(topology.service.createVolume(spec("vol-cordon2", 2, 1, FailureDomainLevel.NODE)));
      assertEquals(Set.of("n3", "n4"), nodesOf(placed));
    } finally {
      ok(topology.service.uncordon("n1"));
      ok(topology.service.uncordon("n2"));
    }
  }

  @Test
  void theControllersRaidStatusShowsAsEachMembersSyncProgress() {
    VolumeView created = ok(topology.service.createVolume(spec("vol-sync", 2, 0, FailureDomainLevel.NODE)));
    nodesOf(created).forEach(n -> acknowledge(n, "vol-sync"));
    awaitState("vol-sync", "Online");
    String active = created.controllers().get(0).node();
    topology.reports().tell(new AgentProtocol.RaidMemberStatus(active, "vol-sync", "toma-vol-sync-l0", "Aa", 500, 1000, "resync"));
    TestProbe<Object> probe = topology.testKit.createTestProbe();
    probe.awaitAssert(WAIT, () -> {
      VolumeView v = ok(topology.service.getVolume("vol-sync"));
      assertEquals("Online", v.legs().get(0).replicas().get(0).state());
      assertEquals(100, v.legs().get(0).replicas().get(0).syncPercent());
      assertEquals("Syncing", v.legs().get(0).replicas().get(1).state());
      assertEquals(50, v.legs().get(0).replicas().get(1).syncPercent());
      return null;
    });
    var summary = ok(topology.service.clusterSummary());
    assertEquals(4, summary.nodes());
    assertEquals(4, summary.disks());
    assertTrue(summary.volumes() >= 1);
    assertTrue(summary.volumesByState().getOrDefault("Online", 0) >= 1, summary.toString());
    assertTrue(summary.freeBytes() < summary.totalBytes());
  }

  @Test
  @Order(Integer.MAX_VALUE)
  void aLostDiskStartsARebuildOfExactlyTheVolumesThatUsedIt() {
    VolumeView a = ok(topology.service.createVolume(spec("vol-lost-a", 2, 0, FailureDomainLevel.NODE)));
    nodesOf(a).forEach(n -> acknowledge(n, "vol-lost-a"));
    awaitState("vol-lost-a", "Online");
    VolumeView.ReplicaView victim = a.legs().get(0).replicas().get(0);
    Set<String> users = new java.util.TreeSet<>();
    for (VolumeView before : ok(topology.service.listVolumes(0, 1000)).items()) {
      if (before.legs().stream().anyMatch(l -> l.replicas().stream().anyMatch(r -> r.disk().equals(victim.disk())))) {
        users.add(before.id());
      }
    }
    topology.reports().tell(new AgentProtocol.DiskLost(victim.node(), victim.disk(), "I/O errors"));
    // Degraded for as long as the replacement is being granted, then Rebuilding onto it
    VolumeView rebuilding = awaitState("vol-lost-a", "Rebuilding");
    assertTrue(rebuilding.reason().orElseThrow().contains("rebuilding l0r0 (I/O errors)"),
        rebuilding.reason().orElseThrow());
    assertFalse(rebuilding.legs().get(0).replicas().get(0).disk().equals(victim.disk()),
        "the lost member's slot is on another disk now");
    for (VolumeView other : ok(topology.service.listVolumes(0, 1000)).items()) {
      if (!users.contains(other.id())) {
        assertFalse(other.state().equals("Degraded") || other.state().equals("Rebuilding"),
            other.id() + " does not use " + victim.disk());
      }
    }
    TopologyResult<VolumeView> onLost = topology.service.createVolume(spec("vol-after-loss", 3, 0, FailureDomainLevel.NODE))
        .toCompletableFuture().join();
    if (onLost instanceof TopologyResult.Ok<VolumeView> placed) {
      assertTrue(placed.value().legs().get(0).replicas().stream().noneMatch(r -> r.disk().equals(victim.disk())),
          "nothing new lands on a lost disk");
    }
  }

  static long lengthOf(AgentProtocol.Apply apply, String dmName) {
    return apply.desired().dmDevices().stream().filter(d -> d.name().equals(dmName)).findFirst()
        .map(d -> d.table().get(0).length()).orElse(-1L);
  }

  @Test
  void growingAVolumeOnlineGrowsTheSlicesOnTheDiskNodesBeforeTheRaidOnTheControllers() {
    VolumeView created = ok(topology.service.createVolume(spec("vol-grow", 2, 1, FailureDomainLevel.NODE)));
    nodesOf(created).forEach(n -> acknowledge(n, "vol-grow"));
    awaitState("vol-grow", "Online");
    VolumeGeometry bigger = VolumeGeometry.of(32 * GIB, 1);

    VolumeView growing = ok(topology.service.resize("vol-grow", 32 * GIB));
    assertEquals("Provisioning", growing.state());
    Set<String> diskNodes = new TreeSet<>();
    growing.legs().forEach(l -> l.replicas().forEach(r -> diskNodes.add(r.node())));
    String reason = growing.reason().orElseThrow();
    for (String node : nodesOf(growing)) {
      assertEquals(diskNodes.contains(node), reason.contains(node + " to apply"), reason);
    }
    String active = growing.controllers().get(0).node();
    for (int r = 0; r < 2; r++) {
      String node = growing.legs().get(0).replicas().get(r).node();
      AgentProtocol.Apply apply = nextApply(node, "vol-grow");
      assertEquals(bigger.extentSectors(), lengthOf(apply, "toma-vol-grow-l0r" + r), "the slice grew first");
      if (node.equals(active)) {
        assertEquals(VolumeGeometry.of(16 * GIB, 1).volumeSectors(), lengthOf(apply, "toma-vol-grow"),
            "the raid keeps its size until every slice grew");
      }
      apply.replyTo().tell(new AgentProtocol.Applied(node, "vol-grow", apply.revision()));
    }
    AgentProtocol.Apply stack = nextApply(active, "vol-grow");
    assertEquals(bigger.volumeSectors(), lengthOf(stack, "toma-vol-grow"));
    assertEquals(bigger.legDataSectors(), lengthOf(stack, "toma-vol-grow-l0"));
    stack.replyTo().tell(new AgentProtocol.Applied(active, "vol-grow", stack.revision()));
    String standby = growing.controllers().get(1).node();
    acknowledge(standby, "vol-grow");
    VolumeView grown = awaitState("vol-grow", "Online");
    assertEquals(32 * GIB, grown.sizeBytes());
    assertInstanceOf(TopologyResult.Invalid.class, topology.service.resize("vol-grow", 8 * GIB).toCompletableFuture().join(),
        "shrinking is refused");
  }

  @Test
  void deletingAVolumeRemovesItFromEveryNodeThenReleasesItsExtents() {
    VolumeView created = ok(topology.service.createVolume(spec("vol-delete", 2, 1, FailureDomainLevel.NODE)));
    nodesOf(created).forEach(n -> acknowledge(n, "vol-delete"));
    awaitState("vol-delete", "Online");
    VolumeView deleting = ok(topology.service.deleteVolume("vol-delete"));
    assertEquals("Deleting", deleting.state());
    for (String node : nodesOf(created)) {
      AgentProtocol.Remove remove = nextRemove(node, "vol-delete");
      remove.replyTo().tell(new AgentProtocol.Removed(node, "vol-delete", remove.revision()));
    }
    TestProbe<Object> probe = topology.testKit.createTestProbe();
    probe.awaitAssert(WAIT, () -> {
      assertInstanceOf(TopologyResult.NotFound.class, topology.service.getVolume("vol-delete").toCompletableFuture().join());
      assertFalse(ok(topology.service.listVolumes(0, 1000)).items().stream().anyMatch(v -> v.id().equals("vol-delete")));
      for (VolumeView.LegView leg : created.legs()) {
        for (VolumeView.ReplicaView replica : leg.replicas()) {
          PhysicalDisk.DiskStatus status = ClusterSharding.get(topology.testKit.system())
              .entityRefFor(PhysicalDisk.TYPE_KEY, replica.disk())
              .<PhysicalDisk.DiskStatus>ask(PhysicalDisk.Get::new, WAIT).toCompletableFuture().join();
          assertTrue(status.extents().stream().noneMatch(e -> e.volumeId().equals("vol-delete")),
              "extents of vol-delete released on " + replica.disk());
        }
      }
      return null;
    });
  }
}
