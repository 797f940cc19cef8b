package io.toma.disk;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.toma.testing.TestConfigs;
import io.toma.topology.DiskFacts;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CopyOnWriteArrayList;
import org.apache.pekko.actor.testkit.typed.javadsl.ActorTestKit;
import org.apache.pekko.persistence.testkit.javadsl.EventSourcedBehaviorTestKit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

class PhysicalDiskTest {

  static final ActorTestKit testKit = ActorTestKit.create("PhysicalDiskTest", TestConfigs.persistence());
  static final long MIB = 1024L * 1024L;
  static final long GIB = 1024L * MIB;

  final List<DiskFacts> published = new CopyOnWriteArrayList<>();
  final List<Set<String>> lostVolumes = new CopyOnWriteArrayList<>();
  EventSourcedBehaviorTestKit<PhysicalDisk.Command, PhysicalDisk.Event, PhysicalDisk.State> disk;

  @AfterAll
  static void shutdown() {
    testKit.shutdownTestKit();
  }

  @BeforeEach
  void setUp() {
    DiskObserver observer = new DiskObserver() {
      @Override
      public void changed(DiskFacts facts) {
        published.add(facts);
      }

      @Override
      public void lost(String diskId, Set<String> volumeIds, String reason) {
        lostVolumes.add(volumeIds);
      }
    };
    disk = EventSourcedBehaviorTestKit.create(testKit.system(), PhysicalDisk.create("disk-1", observer, 3));
    disk.clear();
    disk.runCommand(new PhysicalDisk.Register("n1", "z1", "r1", 10 * GIB, true));
  }

  PhysicalDisk.GrantReply grant(String volume, String tag, long bytes) {
    return disk.<PhysicalDisk.GrantReply>runCommand(r -> new PhysicalDisk.Grant(volume, tag, bytes, r)).reply();
  }

  @Test
  void aRegisteredDiskGrantsAnExtentAndPublishesItsFreeSpace() {
    var result = disk.<PhysicalDisk.GrantReply>runCommand(r -> new PhysicalDisk.Grant("vol1", "l0r0", 2 * GIB, r));
    PhysicalDisk.Granted granted = assertInstanceOf(PhysicalDisk.Granted.class, result.reply());
    assertEquals(new Extent("vol1", "l0r0", MIB, 2 * GIB), granted.extent());
    assertInstanceOf(PhysicalDisk.ExtentGranted.class, result.event());
    DiskFacts last = published.get(published.size() - 1);
    assertEquals(10 * GIB - MIB - 2 * GIB, last.freeBytes());
  }

  @Test
  void askingTwiceForTheSameMemberReturnsTheSameExtentWithoutAllocatingAgain() {
    PhysicalDisk.Granted first = (PhysicalDisk.Granted) grant("vol1", "l0r0", GIB);
    var again = disk.<PhysicalDisk.GrantReply>runCommand(r -> new PhysicalDisk.Grant("vol1", "l0r0", GIB, r));
    assertEquals(first, again.reply());
    assertTrue(again.hasNoEvents());
  }

  @Test
  void twoVolumesNeverGetOverlappingExtentsAndAFullDiskRefuses() {
    Extent a = ((PhysicalDisk.Granted) grant("vol1", "l0r0", 4 * GIB)).extent();
    Extent b = ((PhysicalDisk.Granted) grant("vol2", "l0r0", 4 * GIB)).extent();
    assertFalse(a.overlaps(b));
    PhysicalDisk.Refused refused = assertInstanceOf(PhysicalDisk.Refused.class, grant("vol3", "l0r0", 4 * GIB));
    assertTrue(refused.reason().startsWith("no free extent"), refused.reason());
  }

  @Test
  void releasingAVolumeFreesItsExtentsButKeepsTheMembersAskedToBeKept() {
    grant("vol1", "l0r0", GIB);
    grant("vol1", "l1r0", GIB);
    disk.<PhysicalDisk.Released>runCommand(r -> new PhysicalDisk.Release("vol1", Set.of("l1r0"), r));
    List<Extent> left = disk.getState().allocator().extents();
    assertEquals(1, left.size());
    assertEquals("l1r0", left.get(0).tag());
    var released = disk.<PhysicalDisk.Released>runCommand(r -> new PhysicalDisk.Release("vol1", Set.of(), r));
    assertEquals(new PhysicalDisk.Released("disk-1", "vol1"), released.reply());
    assertTrue(disk.getState().allocator().extents().isEmpty());
  }

  @Test
  void aLostDiskRefusesGrantsAndTellsExactlyTheVolumesThatUsedIt() {
    grant("vol1", "l0r0", GIB);
    grant("vol2", "l0r1", GIB);
    disk.runCommand(new PhysicalDisk.MarkLost("I/O errors"));
    assertEquals(List.of(Set.of("vol1", "vol2")), lostVolumes);
    assertInstanceOf(PhysicalDisk.Refused.class, grant("vol3", "l0r0", GIB));
    assertFalse(published.get(published.size() - 1).healthy());
  }

  @Test
  void aLostDiskThatItsReturningNodeRegistersHealthyAgainTakesGrantsAgain() {
    grant("vol1", "l0r0", GIB);
    disk.runCommand(new PhysicalDisk.MarkLost("node n1 lost (downed)", true));
    assertInstanceOf(PhysicalDisk.Refused.class, grant("vol2", "l0r0", GIB));

    PhysicalDisk.State before = disk.getState();
    disk.runCommand(new PhysicalDisk.Register(before.nodeId(), before.zone(), before.rack(),
        before.allocator().sizeBytes(), true));

    assertInstanceOf(PhysicalDisk.Granted.class, grant("vol2", "l0r0", GIB));
    assertTrue(published.get(published.size() - 1).healthy());
  }

  @Test
  void anUnregisteredDiskRefusesEveryGrant() {
    var fresh = EventSourcedBehaviorTestKit.<PhysicalDisk.Command, PhysicalDisk.Event, PhysicalDisk.State>create(
        testKit.system(), PhysicalDisk.create("disk-unknown", DiskObserver.NONE, 3));
    var reply = fresh.<PhysicalDisk.GrantReply>runCommand(r -> new PhysicalDisk.Grant("vol1", "l0r0", GIB, r)).reply();
    assertEquals(new PhysicalDisk.Refused("disk-unknown", "disk not registered"), reply);
  }

  @Test
  void growingAnExtentInPlaceSucceedsOnlyWhenTheBytesAfterItAreFree() {
    grant("vol1", "l0r0", GIB);
    grant("vol2", "l0r0", GIB);
    var refused = disk.<PhysicalDisk.GrantReply>runCommand(r -> new PhysicalDisk.Grow("vol1", "l0r0", 2 * GIB, r));
    assertInstanceOf(PhysicalDisk.Refused.class, refused.reply());
    var grown = disk.<PhysicalDisk.GrantReply>runCommand(r -> new PhysicalDisk.Grow("vol2", "l0r0", 3 * GIB, r));
    assertEquals(3 * GIB, ((PhysicalDisk.Granted) grown.reply()).extent().lengthBytes());
  }

  @Test
  void theDiskRecoversItsExtentsFromItsEvents() {
    grant("vol1", "l0r0", GIB);
    grant("vol2", "l0r0", GIB);
    PhysicalDisk.State before = disk.getState();
    assertEquals(before, disk.restart().state());
  }

  @Test
  void theDiskRecoversFromASnapshotWhenItsEventsAreGone() {
    // Register + 2 grants = 3 events: a snapshot every 3 events
    grant("vol1", "l0r0", GIB);
    grant("vol2", "l0r0", GIB);
    PhysicalDisk.State before = disk.getState();
    disk.snapshotTestKit().orElseThrow().expectNextPersisted("PhysicalDisk|disk-1", before);
    disk.persistenceTestKit().clearByPersistenceId("PhysicalDisk|disk-1");
    assertEquals(before, disk.restart().state());
  }

  /** A disk of its own (its own persistence id, no snapshots), so its snapshots never reach the other tests. */
  EventSourcedBehaviorTestKit<PhysicalDisk.Command, PhysicalDisk.Event, PhysicalDisk.State> separateDisk(String id,
      DiskObserver observer) {
    var separate = EventSourcedBehaviorTestKit.<PhysicalDisk.Command, PhysicalDisk.Event, PhysicalDisk.State>create(
        testKit.system(), PhysicalDisk.create(id, observer, 1000));
    separate.runCommand(new PhysicalDisk.Register("n1", "z1", "r1", 10 * GIB, true));
    return separate;
  }

  static void grantOn(EventSourcedBehaviorTestKit<PhysicalDisk.Command, PhysicalDisk.Event, PhysicalDisk.State> d,
      String volume, String tag, long bytes) {
    d.<PhysicalDisk.GrantReply>runCommand(r -> new PhysicalDisk.Grant(volume, tag, bytes, r));
  }

  @Test
  void aLostDiskTellsItsVolumesLargestExtentFirstSoTheirReplacementsArePlacedLargestFirst() {
    List<Set<String>> told = new CopyOnWriteArrayList<>();
    var d = separateDisk("disk-order", new DiskObserver() {
      @Override
      public void changed(DiskFacts facts) {}

      @Override
      public void lost(String diskId, Set<String> volumeIds, String reason) {
        told.add(volumeIds);
      }
    });
    grantOn(d, "vol-a", "l0r0", GIB);
    grantOn(d, "vol-b", "l0r1", 3 * GIB);
    grantOn(d, "vol-c", "l0r0", 2 * GIB);
    d.runCommand(new PhysicalDisk.MarkLost("I/O errors"));
    assertEquals(List.of("vol-b", "vol-c", "vol-a"), List.copyOf(told.get(0)));
  }

  @Test
  void theDiskPublishesTheBytesItHoldsForReplacementsApartFromMembersPlacedAtCreate() {
    List<DiskFacts> facts = new CopyOnWriteArrayList<>();
    var d = separateDisk("disk-repair", new DiskObserver() {
      @Override
      public void changed(DiskFacts f) {
        facts.add(f);
      }

      @Override
      public void lost(String diskId, Set<String> volumeIds, String reason) {}
    });
    grantOn(d, "vol1", "l0r0", GIB);
    grantOn(d, "vol2", "l0r1g1", 2 * GIB);
    grantOn(d, "vol3", "l1r0g12", GIB);
    assertEquals(3 * GIB, facts.get(facts.size() - 1).repairBytes());
  }

  @Test
  void aDiskLostWithItsNodeIsUsableAgainOnceTheReturnedNodeRegistersItHealthy() {
    grant("vol1", "l0r0", GIB);
    disk.runCommand(new PhysicalDisk.MarkLost("node n1 lost (downed)", true));
    assertInstanceOf(PhysicalDisk.Refused.class, grant("vol2", "l0r0", GIB));

    disk.runCommand(new PhysicalDisk.Register("n1", "z1", "r1", 10 * GIB, true));

    assertTrue(published.get(published.size() - 1).healthy(), "the capacity view sees the disk healthy again");
    assertInstanceOf(PhysicalDisk.Granted.class, grant("vol2", "l0r0", GIB));
    disk.restart();
    assertFalse(disk.getState().lost(), "the return survives a restart");
    assertEquals(2, disk.getState().allocator().extents().size(), "the extents held while lost are kept");
  }

  @Test
  void aDiskLostOnItsOwnStaysLostWhenItsNodeRegistersAgain() {
    disk.runCommand(new PhysicalDisk.MarkLost("I/O errors"));

    disk.runCommand(new PhysicalDisk.Register("n1", "z1", "r1", 10 * GIB, true));

    assertInstanceOf(PhysicalDisk.Refused.class, grant("vol1", "l0r0", GIB));
    assertFalse(published.get(published.size() - 1).healthy());
  }
}
