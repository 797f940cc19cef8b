package io.toma.placement;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.toma.topology.NodeFacts;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Test;

class ControllerPlacerTest {

  private static NodeFacts node(String id, int hosted, boolean lost) {
    return new NodeFacts(id, Set.of("controller"), "z1", "r1", "10.0.0." + id.charAt(1), "nqn.h" + id, false, hosted,
        lost);
  }

  @Test
  void aCrashedNodeDeclaredLostIsNotPlacedEvenWhenItHostsTheFewestControllers() {
    // the lost node looks idlest: its volumes failed over away from it
    List<NodeFacts> nodes = List.of(node("c1", 0, true), node("c2", 4, false), node("c3", 5, false));

    ControllerOutcome.Chosen chosen = assertInstanceOf(ControllerOutcome.Chosen.class,
        new ControllerPlacer().place(nodes, 1, Set.of()));

    assertEquals("c2", chosen.active().nodeId());
    assertEquals(List.of("c3"), chosen.standbys().stream().map(NodeFacts::nodeId).toList());
  }

  @Test
  void aRefusalCountsTheNodesDeclaredLost() {
    List<NodeFacts> nodes = List.of(node("c1", 0, true), node("c2", 0, false));

    ControllerOutcome.Refused refused = assertInstanceOf(ControllerOutcome.Refused.class,
        new ControllerPlacer().place(nodes, 1, Set.of()));

    assertTrue(refused.message().contains("1 declared lost"), refused.message());
  }
}
