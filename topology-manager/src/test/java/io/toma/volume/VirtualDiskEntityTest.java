package io.toma.volume;

import static io.toma.testing.TestTopology.GIB;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.toma.testing.TestTopology;
import io.toma.topology.FailureDomainLevel;
import io.toma.topology.Layout;
import io.toma.topology.TopologySettings;
import io.toma.topology.VolumeSpec;
import java.util.List;
import java.util.Set;
import org.apache.pekko.persistence.testkit.javadsl.EventSourcedBehaviorTestKit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;

/**
 * The VirtualDisk entity under EventSourcedBehaviorTestKit (every command, event and state
 * round-trips through Jackson CBOR), placed against real PhysicalDisk and ControllerNode entities.
 */
class VirtualDiskEntityTest {

  static final TopologySettings SETTINGS = TestTopology.fastSettings().withSnapshotEvery(3);
  static final TestTopology topology = new TestTopology("VirtualDiskEntityTest", SETTINGS);

  static {
    for (int i = 1; i <= 3; i++) {
      topology.node("n" + i, "z1", "r" + i, Set.of("disk", "controller"), 512 * GIB);
    }
    topology.awaitRegistered(3, 3);
  }

  @AfterAll
  static void shutdown() {
    topology.close();
  }

  static EventSourcedBehaviorTestKit<VirtualDisk.Command, VolumeRecord.Event, VolumeRecord> volume(String id) {
    return EventSourcedBehaviorTestKit.create(topology.testKit.system(),
        VirtualDisk.create(id, topology.service.capacityView(), SETTINGS));
  }

  static VolumeSpec spec(String name) {
    return new VolumeSpec(name, 8 * GIB, Layout.of(1, 2, 1, FailureDomainLevel.NODE));
  }

  @Test
  void aCreatedVolumeIsPlacedPersistedAndRecoveredFromItsEvents() {
    var kit = volume("vol-es1");
    var created = kit.<VolumeReply>runCommand(r -> new VirtualDisk.Create(spec("vol-es1"), r));
    VolumeReply.Found found = assertInstanceOf(VolumeReply.Found.class, created.reply());
    assertInstanceOf(VolumeRecord.CreationStarted.class, created.event());
    VolumeRecord placed = kit.getState();
    assertEquals(VolumeRecord.Phase.PLACED, placed.phase());
    assertEquals(2, placed.placement().orElseThrow().replicas().size());
    assertEquals(1, placed.revision());
    assertEquals(found.volume().legs().get(0).replicas().size(), 2);

    // one node's acknowledgement is kept in memory; the last one makes the volume Online and is
    // recorded once, as the whole volume in sync
    List<String> nodes = List.copyOf(placed.desiredRevisions().keySet());
    for (String node : nodes.subList(0, nodes.size() - 1)) {
      assertTrue(kit.runCommand(new VirtualDisk.ReportApplied(node, 1)).hasNoEvents(), node);
    }
    var last = kit.runCommand(new VirtualDisk.ReportApplied(nodes.get(nodes.size() - 1), 1));
    assertEquals(new VolumeRecord.NodesInSync(1), last.event());
    assertEquals(io.toma.topology.VolumeState.ONLINE, kit.getState().visibleState());
    VolumeRecord recovered = kit.restart().state();
    assertEquals(kit.getState(), recovered);
    assertEquals(io.toma.topology.VolumeState.ONLINE, recovered.visibleState(), "recovered Online, nothing to resend");
  }

  static boolean ticking(EventSourcedBehaviorTestKit<VirtualDisk.Command, VolumeRecord.Event, VolumeRecord> kit) {
    return kit.<VirtualDisk.TickState>runCommand(VirtualDisk.TickScheduled::new).reply().scheduled();
  }

  @Test
  void anIdleOnlineVolumeSchedulesNoTickAndAPendingFailoverKeepsItsTimerRunning() {
    var kit = volume("vol-idle");
    kit.<VolumeReply>runCommand(r -> new VirtualDisk.Create(spec("vol-idle"), r));
    VolumeRecord placed = kit.getState();
    assertTrue(ticking(kit), "every node still owes its first acknowledgement: the resend tick runs");

    placed.desiredRevisions().forEach((node, revision) -> kit.runCommand(new VirtualDisk.ReportApplied(node, revision)));
    assertEquals(io.toma.topology.VolumeState.ONLINE, kit.getState().visibleState());
    assertFalse(ticking(kit), "Online, nothing owed, no repair: no timer at all");
    assertFalse(kit.restart().state().phase() != VolumeRecord.Phase.PLACED || ticking(kit),
        "recovered idle: still no timer");

    String active = placed.placement().orElseThrow().controllers().stream()
        .filter(c -> c.role() == io.toma.topology.ControllerRole.ACTIVE).findFirst().orElseThrow().nodeId();
    kit.runCommand(new VirtualDisk.ReportNodeLost(active, "downed"));
    topology.testKit.createTestProbe().awaitAssert(java.time.Duration.ofSeconds(10), () -> {
      assertTrue(kit.getState().healing().failingOver(), "the failover waits on a fence or the self-fence");
      assertTrue(ticking(kit), "its timeouts are driven by the tick: the timer runs again");
      return null;
    });
  }

  @Test
  void theVolumeRecoversFromASnapshotWhenItsEventsAreGone() {
    var kit = volume("vol-es2");
    kit.<VolumeReply>runCommand(r -> new VirtualDisk.Create(spec("vol-es2"), r));
    // CreationStarted (with its candidates), VolumePlaced, then AttachmentAdded and
    // AttachmentRemoved twice: 6 events, a snapshot every 3, the last one after the 6th
    for (int i = 0; i < 2; i++) {
      kit.<VolumeReply>runCommand(r -> new VirtualDisk.Attach("nqn.2026-11.io.toma:host:h1", r));
      kit.<VolumeReply>runCommand(r -> new VirtualDisk.Detach("nqn.2026-11.io.toma:host:h1", r));
    }
    VolumeRecord placed = kit.getState();
    assertEquals(VolumeRecord.Phase.PLACED, placed.phase());
    kit.persistenceTestKit().clearByPersistenceId("VirtualDisk|vol-es2");
    assertEquals(placed, kit.restart().state());
  }

  @Test
  void attachingBumpsTheRevisionOfTheControllersOnlyAndARepeatedCreateIsAnswered() {
    var kit = volume("vol-es3");
    kit.<VolumeReply>runCommand(r -> new VirtualDisk.Create(spec("vol-es3"), r));
    VolumeRecord before = kit.getState();
    var attached = kit.<VolumeReply>runCommand(r -> new VirtualDisk.Attach("nqn.2014-08.org.example:host-1", r));
    assertInstanceOf(VolumeRecord.AttachmentAdded.class, attached.event());
    VolumeRecord after = kit.getState();
    assertEquals(2, after.revision());
    Set<String> controllers = Set.copyOf(after.placement().orElseThrow().controllers().stream()
        .map(c -> c.nodeId()).toList());
    after.desiredRevisions().forEach((node, revision) ->
        assertEquals(controllers.contains(node) ? 2L : before.desiredRevisions().get(node), revision, node));

    var again = kit.<VolumeReply>runCommand(r -> new VirtualDisk.Create(spec("vol-es3"), r));
    assertTrue(again.hasNoEvents());
    assertInstanceOf(VolumeReply.Found.class, again.reply());
    var conflict = kit.<VolumeReply>runCommand(r -> new VirtualDisk.Create(
        new VolumeSpec("vol-es3", 16 * GIB, Layout.of(1, 2, 1, FailureDomainLevel.NODE)), r));
    assertInstanceOf(VolumeReply.Conflict.class, conflict.reply());
    var invalid = kit.<VolumeReply>runCommand(r -> new VirtualDisk.Attach("not an nqn", r));
    assertInstanceOf(VolumeReply.Invalid.class, invalid.reply());
  }
}
