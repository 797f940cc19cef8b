package io.toma.healing;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.toma.healing.Refs.DiskRef;
import io.toma.healing.Refs.LegRef;
import io.toma.healing.RepairScheduler.Load;
import io.toma.healing.RepairScheduler.PendingRepair;
import io.toma.healing.RepairScheduler.Schedule;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.Test;

class RepairSchedulerTest {

  private static final HealingSettings SETTINGS = HealingSettings.defaults().withRebuildCaps(2, 4);

  private static DiskRef disk(String node, String disk) {
    return new DiskRef(node, disk);
  }

  private static PendingRepair repair(String volume, int wanted, int inSync, DiskRef... sources) {
    return new PendingRepair(new LegRef(volume, 0), 1, wanted, inSync, List.of(sources));
  }

  @Test
  void legsWithTheLeastRedundancyLeftAreRepairedFirst() {
    DiskRef shared = disk("n1", "nvme0");
    PendingRepair oneSpare = repair("a-vol", 3, 2, shared, disk("n2", "nvme0"));
    PendingRepair noSpare = repair("z-vol", 3, 1, shared);
    PendingRepair alsoNoSpare = repair("m-vol", 2, 1, shared);

    Schedule s = RepairScheduler.schedule(List.of(oneSpare, noSpare, alsoNoSpare),
        Load.none(), SETTINGS);

    assertEquals(List.of(noSpare, alsoNoSpare), s.start(),
        "two slots on the shared disk go to the legs with no spare copy; the one-spare leg waits");
    assertEquals(List.of(oneSpare), s.deferred().stream().map(d -> d.repair()).toList());
    assertTrue(s.deferred().get(0).reason().contains("n1/nvme0"));
  }

  @Test
  void theOrderDoesNotDependOnTheOrderRepairsWereReported() {
    List<PendingRepair> pending = new ArrayList<>();
    for (int i = 0; i < 30; i++) {
      pending.add(repair("v" + i, 3, 1 + i % 3, disk("n" + i % 4, "d0")));
    }
    Schedule first = RepairScheduler.schedule(pending, Load.none(), SETTINGS);
    Collections.shuffle(pending, new Random(42));

    assertEquals(first, RepairScheduler.schedule(pending, Load.none(), SETTINGS));
  }

  @Test
  void aLegWithNoInSyncMemberIsNotScheduled() {
    PendingRepair lost = repair("v1", 2, 0);

    Schedule s = RepairScheduler.schedule(List.of(lost), Load.none(), SETTINGS);

    assertTrue(s.start().isEmpty());
    assertTrue(s.deferred().get(0).reason().contains("no in-sync member"));
  }

  @Test
  void rebuildsAlreadyCopyingCountAgainstTheCaps() {
    DiskRef busy = disk("n1", "d0");
    Load inFlight = Load.of(List.of(List.of(busy), List.of(busy, disk("n2", "d0"))));

    Schedule s = RepairScheduler.schedule(
        List.of(repair("v1", 2, 1, busy), repair("v2", 2, 1, disk("n3", "d0"))), inFlight,
        SETTINGS);

    assertEquals(List.of("v2"), s.start().stream().map(p -> p.leg().volume()).toList());
  }

  /** Random pending sets and loads: the caps hold for every disk and every node, every time. */
  @Test
  void thePerDiskRebuildCapIsNeverExceeded() {
    for (long seed = 1; seed <= 300; seed++) {
      Random random = new Random(seed);
      int perDisk = 1 + random.nextInt(3);
      int perNode = perDisk + random.nextInt(4);
      HealingSettings settings = HealingSettings.defaults().withRebuildCaps(perDisk, perNode);
      List<DiskRef> disks = new ArrayList<>();
      for (int n = 0; n < 2 + random.nextInt(6); n++) {
        for (int d = 0; d < 1 + random.nextInt(3); d++) {
          disks.add(disk("n" + n, "d" + d));
        }
      }
      List<List<DiskRef>> inFlight = new ArrayList<>();
      for (int i = random.nextInt(6); i > 0; i--) {
        inFlight.add(List.of(disks.get(random.nextInt(disks.size()))));
      }
      List<PendingRepair> pending = new ArrayList<>();
      for (int i = random.nextInt(40); i > 0; i--) {
        int wanted = 2 + random.nextInt(2);
        List<DiskRef> touches = new ArrayList<>();
        for (int t = 1 + random.nextInt(3); t > 0; t--) {
          touches.add(disks.get(random.nextInt(disks.size())));
        }
        pending.add(new PendingRepair(new LegRef("v" + i, random.nextInt(2)), random.nextInt(3),
            wanted, random.nextInt(wanted), touches));
      }
      Load load = Load.of(inFlight);

      Schedule s = RepairScheduler.schedule(pending, load, settings);

      Map<DiskRef, Integer> started = new HashMap<>();
      Map<String, Integer> startedOnNode = new HashMap<>();
      for (PendingRepair p : s.start()) {
        p.touches().forEach(d -> started.merge(d, 1, Integer::sum));
        p.touches().stream().map(DiskRef::node).distinct()
            .forEach(n -> startedOnNode.merge(n, 1, Integer::sum));
      }
      long seedForMessage = seed;
      for (Map.Entry<DiskRef, Integer> e : started.entrySet()) {
        int before = load.onDisk(e.getKey());
        assertTrue(before + e.getValue() <= perDisk,
            () -> "seed " + seedForMessage + ": " + e.getKey() + " had " + before + ", started "
                + e.getValue() + ", cap " + perDisk);
      }
      for (Map.Entry<String, Integer> e : startedOnNode.entrySet()) {
        assertTrue(load.onNode(e.getKey()) + e.getValue() <= perNode,
            () -> "seed " + seedForMessage + ": node cap broken on " + e.getKey());
      }
      assertEquals(pending.size(), s.start().size() + s.deferred().size());
      // Nothing with a free path is left waiting behind the caps.
      for (RepairScheduler.Deferred d : s.deferred()) {
        assertTrue(d.repair().membersInSync() == 0 || d.reason().startsWith("rebuild cap"),
            () -> "seed " + seedForMessage + ": " + d);
      }
    }
  }

  @Test
  void aWholeRackLossDrainsAsManyRepairsUnderTheCapsMostUrgentFirst() {
    // Rack r1 (4 disks) is gone; 24 legs lost one member each, 8 of them were 2-way (no spare
    // left) and 16 were 3-way (one spare left). Survivors sit on 4 disks in other racks.
    List<DiskRef> survivors = List.of(disk("r2-n1", "d0"), disk("r2-n2", "d0"),
        disk("r3-n1", "d0"), disk("r3-n2", "d0"));
    List<PendingRepair> pending = new ArrayList<>();
    for (int i = 0; i < 24; i++) {
      boolean twoWay = i < 8;
      pending.add(repair(String.format("v%02d", i), twoWay ? 2 : 3, twoWay ? 1 : 2,
          survivors.get(i % 4)));
    }
    List<List<PendingRepair>> rounds = new ArrayList<>();
    while (!pending.isEmpty()) {
      Schedule s = RepairScheduler.schedule(pending, Load.none(), SETTINGS);
      assertTrue(s.start().size() <= 4 * SETTINGS.maxRebuildsPerDisk());
      rounds.add(s.start());
      pending.removeAll(s.start()); // this round's rebuilds complete before the next round
    }

    assertEquals(3, rounds.size());
    assertTrue(rounds.get(0).stream().allMatch(p -> p.membersInSync() == 1),
        "the first round repairs only legs with no spare copy left");
  }

  @Test
  void withinOneRedundancyLevelTheLargestMemberIsRebuiltFirstButLessRedundancyStillComesFirst() {
    PendingRepair small = new PendingRepair(new LegRef("a-vol", 0), 1, 2, 1, List.of(disk("n1", "d0")), 4L << 30);
    PendingRepair large = new PendingRepair(new LegRef("z-vol", 0), 1, 2, 1, List.of(disk("n2", "d0")), 64L << 30);
    PendingRepair largestButSpare =
        new PendingRepair(new LegRef("b-vol", 0), 1, 3, 2, List.of(disk("n3", "d0"), disk("n4", "d0")), 512L << 30);

    Schedule s = RepairScheduler.schedule(List.of(small, largestButSpare, large), Load.none(), SETTINGS);

    assertEquals(List.of(large, small, largestButSpare), s.start());
  }
}
