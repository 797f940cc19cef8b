package io.toma.placement;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNotEquals;

import io.toma.topology.DiskFacts;
import io.toma.topology.FailureDomainLevel;
import io.toma.topology.NodeFacts;
import io.toma.topology.VolumeSpec;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Test;

class DiskPlacerTest {

  static final long GIB = VolumeSpec.GIB;
  static final long TIB = VolumeSpec.TIB;
  final DiskPlacer placer = DiskPlacer.greedyByFreeSpace(0.05);
  final DiskPlacer spreading = DiskPlacer.forNewVolumes(0.05);

  static DiskFacts disk(String id, String node, String rack, long size, long free) {
    return new DiskFacts(id, node, "z1", rack, size, free, true);
  }

  @Test
  void whenTooFewRacksQualifyTheRefusalNamesTheConstraintAndTheRacksFound() {
    List<DiskFacts> disks = List.of(
        disk("a", "n1", "r1", 2 * TIB, 2 * TIB),
        disk("b", "n2", "r2", 2 * TIB, 2 * TIB),
        disk("c", "n3", "r3", 2 * TIB, 100 * GIB));
    PlacementOutcome outcome = placer.place(
        PlacementRequest.forNewVolume("v", 1, 3, 512 * GIB, FailureDomainLevel.RACK, Set.of()), disks, Set.of());
    PlacementOutcome.Refused refused = assertInstanceOf(PlacementOutcome.Refused.class, outcome);
    assertEquals("replicas=3 at level rack needs 3 racks with 512 GiB free each; 2 qualify: z1/r1, z1/r2"
        + " (leg 0 already uses z1/r1, z1/r2); disks rejected: 1 full", refused.message());
  }

  @Test
  void placementIsGreedyByFreeBytesNotByUsedBytes() {
    // a: 4 TiB with 1.5 TiB free (more used); b: 1 TiB, empty (less free)
    List<DiskFacts> disks = List.of(disk("a", "n1", "r1", 4 * TIB, 1536 * GIB), disk("b", "n2", "r2", TIB, TIB));
    PlacementOutcome.Chosen chosen = (PlacementOutcome.Chosen) placer.place(
        PlacementRequest.forNewVolume("v", 1, 1, 10 * GIB, FailureDomainLevel.NODE, Set.of()), disks, Set.of());
    assertEquals("a", chosen.members().get(0).disk().diskId());
  }

  @Test
  void theSpareReserveIsKeptForNewVolumesButRebuildsMayUseIt() {
    List<DiskFacts> disks = List.of(disk("a", "n1", "r1", 1000 * GIB, 40 * GIB));
    assertInstanceOf(PlacementOutcome.Refused.class, placer.place(
        PlacementRequest.forNewVolume("v", 1, 1, 20 * GIB, FailureDomainLevel.NODE, Set.of()), disks, Set.of()));
    PlacementRequest rebuild = new PlacementRequest("v", List.of(new MemberSlot(0, 0)), 20 * GIB, 1,
        FailureDomainLevel.NODE, java.util.Map.of(), Set.of(), true);
    assertInstanceOf(PlacementOutcome.Chosen.class, placer.place(rebuild, disks, Set.of()));
  }

  @Test
  void aStandbyControllerIsNeverOnTheActivesNode() {
    List<NodeFacts> nodes = List.of(
        new NodeFacts("c1", Set.of("controller"), "z1", "r1", "10.0.0.1", "nqn.h1", false, 0),
        new NodeFacts("c2", Set.of("controller"), "z1", "r1", "10.0.0.2", "nqn.h2", false, 3),
        new NodeFacts("c3", Set.of("controller"), "z1", "r2", "10.0.0.3", "nqn.h3", false, 5));
    ControllerOutcome.Chosen chosen = (ControllerOutcome.Chosen) new ControllerPlacer().place(nodes, 2, Set.of());
    assertEquals("c1", chosen.active().nodeId(), "least loaded is active");
    chosen.standbys().forEach(s -> assertNotEquals("c1", s.nodeId()));
    assertEquals("c3", chosen.standbys().get(0).nodeId(), "the first standby prefers another rack");
    ControllerOutcome.Refused refused = (ControllerOutcome.Refused) new ControllerPlacer().place(nodes, 3, Set.of());
    assertEquals("activeControllers=1 and standbyControllers=3 need 4 controller nodes; 3 qualify: c1, c2, c3"
        + " (3 with the controller role, 0 cordoned)", refused.message());
  }

  @Test
  void concurrentCreatesReadingTheSameViewSpreadOverTheNearBestDisksInsteadOfAllTakingOne() {
    // Eight equal disks, all within one extent of each other: 64 creates placed on the same view.
    List<DiskFacts> disks = new java.util.ArrayList<>();
    for (int i = 0; i < 8; i++) {
      disks.add(disk("d" + i, "n" + i, "r" + i, 4 * TIB, 4 * TIB - i * 100L * 1024 * 1024));
    }
    java.util.Map<String, Integer> chosen = new java.util.TreeMap<>();
    for (int v = 0; v < 64; v++) {
      PlacementOutcome.Chosen c = (PlacementOutcome.Chosen) spreading.place(
          PlacementRequest.forNewVolume("vol-" + v, 1, 1, GIB, FailureDomainLevel.NODE, Set.of()), disks, Set.of());
      chosen.merge(c.members().get(0).disk().diskId(), 1, Integer::sum);
    }
    assertEquals(8, chosen.size(), "every near-best disk takes some: " + chosen);
    org.junit.jupiter.api.Assertions.assertTrue(chosen.values().stream().allMatch(n -> n <= 16),
        "no disk takes more than twice its share: " + chosen);
    assertEquals(spreading.place(PlacementRequest.forNewVolume("vol-1", 1, 1, GIB, FailureDomainLevel.NODE, Set.of()),
            disks, Set.of()),
        spreading.place(PlacementRequest.forNewVolume("vol-1", 1, 1, GIB, FailureDomainLevel.NODE, Set.of()),
            disks, Set.of()), "the same inputs give the same answer");
  }

  @Test
  void aDiskMoreThanOneExtentBehindTheMostFreeIsNotChosenForANewVolume() {
    List<DiskFacts> disks = List.of(disk("a", "n1", "r1", 4 * TIB, 2 * TIB), disk("b", "n2", "r2", 4 * TIB, 2 * TIB - 2 * GIB));
    for (int v = 0; v < 20; v++) {
      PlacementOutcome.Chosen c = (PlacementOutcome.Chosen) spreading.place(
          PlacementRequest.forNewVolume("vol-" + v, 1, 1, GIB, FailureDomainLevel.NODE, Set.of()), disks, Set.of());
      assertEquals("a", c.members().get(0).disk().diskId());
    }
  }

  @Test
  void aReplacementGoesToTheDiskThatReceivedFewestRepairBytesAndThenToTheMostFree() {
    List<DiskFacts> disks = List.of(
        disk("a", "n1", "r1", 4 * TIB, 3 * TIB),
        disk("b", "n2", "r2", 2 * TIB, TIB),
        disk("c", "n3", "r3", 2 * TIB, 900 * GIB));
    PlacementRequest replacement = new PlacementRequest("v", List.of(new MemberSlot(0, 1)), 64 * GIB, 2,
        FailureDomainLevel.NODE, java.util.Map.of(0, Set.of("n9")), Set.of(), true);
    java.util.Map<String, Long> received = java.util.Map.of("a", 64 * GIB, "b", 0L, "c", 0L);
    PlacementOutcome.Chosen c = (PlacementOutcome.Chosen) DiskPlacer.forReprotection(0.05, received)
        .place(replacement, disks, Set.of());
    assertEquals("b", c.members().get(0).disk().diskId(), "fewest received, then most free");
  }

  @Test
  void concurrentCreatesSpreadTheirActiveControllersOverTheLeastLoadedNodes() {
    List<NodeFacts> nodes = new java.util.ArrayList<>();
    for (int i = 0; i < 6; i++) {
      nodes.add(new NodeFacts("c" + i, Set.of("controller"), "z1", "r" + (i % 3), "10.0.0." + i, "nqn.h" + i, false,
          i == 5 ? 9 : i % 2));
    }
    java.util.Set<String> actives = new java.util.TreeSet<>();
    for (int v = 0; v < 64; v++) {
      ControllerOutcome.Chosen chosen = (ControllerOutcome.Chosen) new ControllerPlacer().place("vol-" + v, nodes, 1, Set.of());
      actives.add(chosen.active().nodeId());
      assertNotEquals(chosen.active().nodeId(), chosen.standbys().get(0).nodeId());
    }
    assertEquals(Set.of("c0", "c1", "c2", "c3", "c4"), actives, "every node within one controller of the least"
        + " loaded hosts some actives; the loaded one none");
  }
}
