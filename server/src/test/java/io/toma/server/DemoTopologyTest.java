package io.toma.server;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.typesafe.config.ConfigFactory;
import io.toma.config.Role;
import io.toma.config.TomaSettings;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;

class DemoTopologyTest {
  private final List<NodePlan> plans = DemoTopology.plans(ConfigFactory.load());

  private static TomaSettings.Node node(NodePlan plan) {
    return plan.settings().node();
  }

  @Test
  void theDemoHasTwoManagersAndSixStorageNodesADiskAndAControllerNodePerRackInThreeRacks() {
    assertEquals(8, plans.size());
    assertEquals(
        List.of("manager-1", "manager-2"),
        plans.stream().filter(p -> node(p).hasRole(Role.MANAGER)).map(NodePlan::nodeId).toList());
    Map<String, Long> perRack =
        plans.stream()
            .filter(p -> !node(p).hasRole(Role.MANAGER))
            .peek(p -> assertEquals(
                Set.of(p.simulatedDisks().isEmpty() ? Role.CONTROLLER : Role.DISK), node(p).roles()))
            .collect(Collectors.groupingBy(p -> node(p).rack(), Collectors.counting()));
    assertEquals(Map.of("r1", 2L, "r2", 2L, "r3", 2L), perRack);
    assertEquals(1, plans.stream().map(p -> node(p).zone()).distinct().count());
  }

  @Test
  void everyNodeIsItsOwnMemberOnItsOwnPortJoiningThroughBothManagers() {
    assertEquals(
        List.of(2551, 2552, 2553, 2554, 2555, 2556, 2557, 2558),
        plans.stream().map(p -> p.settings().cluster().canonical().port()).toList());
    for (NodePlan plan : plans) {
      assertEquals(
          List.of("127.0.0.1:2551", "127.0.0.1:2552"),
          plan.settings().cluster().seedNodes().stream().map(Object::toString).toList());
    }
    assertEquals(
        6,
        plans.stream()
            .filter(p -> !node(p).hasRole(Role.MANAGER))
            .map(p -> node(p).fabricAddress())
            .distinct()
            .count(),
        "every storage node exports on its own NVMe-oF port");
  }

  @Test
  void theFirstManagerServesHttpOn8080AndIsTheOneTheReadmeNames() {
    NodePlan front = plans.get(0);
    assertEquals(DemoTopology.FAULT_EXEMPT_NODE, front.nodeId());
    assertEquals(8080, front.settings().http().port());
    assertEquals("127.0.0.1", front.settings().http().bindAddress());
  }

  @Test
  void storageNodesGetSimulatedDisksOfMixedSizes() {
    Set<Long> sizes =
        plans.stream()
            .flatMap(p -> p.simulatedDisks().stream())
            .map(SimulatedDisk::sizeBytes)
            .collect(Collectors.toSet());
    assertEquals(
        Set.of(SimulatedDisk.TIB, 2 * SimulatedDisk.TIB, 4 * SimulatedDisk.TIB), sizes);
    assertTrue(
        plans.stream()
            .filter(p -> !node(p).hasRole(Role.MANAGER))
            .allMatch(p -> p.simulatedDisks().size() == (node(p).hasRole(Role.DISK) ? 2 : 0)));
  }

  @Test
  void allDemoNodesShareTheConfiguredDataDirectory() {
    assertEquals(1, plans.stream().map(p -> p.settings().dataDir()).distinct().count());
  }
}
