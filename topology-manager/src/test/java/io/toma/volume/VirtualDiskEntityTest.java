package io.toma.volume;

import static io.toma.testing.TestTopology.GIB;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.toma.testing.TestTopology;
import io.toma.topology.FailureDomainLevel;
import io.toma.topology.Layout;
import io.toma.topology.TopologySettings;
import io.toma.topology.VolumeSpec;
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

    var applied = kit.runCommand(new VirtualDisk.ReportApplied(
        placed.placement().orElseThrow().replicas().get(0).nodeId(), 1));
    assertInstanceOf(VolumeRecord.NodeApplied.class, applied.event());
    assertEquals(kit.getState(), kit.restart().state());
  }

  @Test
  void theVolumeRecoversFromASnapshotWhenItsEventsAreGone() {
    var kit = volume("vol-es2");
    kit.<VolumeReply>runCommand(r -> new VirtualDisk.Create(spec("vol-es2"), r));
    // CreationStarted, CandidatesChosen, 2 MemberGranted, 2 ControllerGranted, VolumePlaced,
    // AttachmentAdded, AttachmentRemoved: 9 events, a snapshot every 3, the last one after the 9th
    kit.<VolumeReply>runCommand(r -> new VirtualDisk.Attach("nqn.2026-11.io.toma:host:h1", r));
    kit.<VolumeReply>runCommand(r -> new VirtualDisk.Detach("nqn.2026-11.io.toma:host:h1", r));
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
