package io.toma.placement;

import io.toma.topology.NodeFacts;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Set;
import java.util.stream.Collectors;

/**
 * Chooses controller nodes: nodes with the controller role, not cordoned, the least loaded (by
 * hosted controllers) first; standbys never on the active's node and, when possible, in another
 * rack than the active.
 */
public final class ControllerPlacer {

  public ControllerOutcome place(List<NodeFacts> nodes, int standbys, Set<String> excludedNodes) {
    List<NodeFacts> eligible =
        nodes.stream()
            .filter(NodeFacts::canHostControllers)
            .filter(n -> !n.cordoned())
            .filter(n -> !excludedNodes.contains(n.nodeId()))
            .sorted(Comparator.comparingInt(NodeFacts::hostedControllers).thenComparing(NodeFacts::nodeId))
            .collect(Collectors.toList());
    int needed = 1 + standbys;
    if (eligible.size() < needed) {
      long controllerNodes = nodes.stream().filter(NodeFacts::canHostControllers).count();
      long cordoned = nodes.stream().filter(NodeFacts::canHostControllers).filter(NodeFacts::cordoned).count();
      return new ControllerOutcome.Refused(
          "activeControllers=1 and standbyControllers=" + standbys + " need " + needed
              + " controller nodes; " + eligible.size() + " qualif" + (eligible.size() == 1 ? "ies" : "y")
              + (eligible.isEmpty() ? "" : ": " + eligible.stream().map(NodeFacts::nodeId).sorted().collect(Collectors.joining(", ")))
              + " (" + controllerNodes + " with the controller role, " + cordoned + " cordoned)");
    }
    NodeFacts active = eligible.get(0);
    List<NodeFacts> rest = new ArrayList<>(eligible.subList(1, eligible.size()));
    rest.sort(
        Comparator.comparing((NodeFacts n) -> sameRack(n, active))
            .thenComparingInt(NodeFacts::hostedControllers)
            .thenComparing(NodeFacts::nodeId));
    return new ControllerOutcome.Chosen(active, rest.subList(0, standbys));
  }

  private static boolean sameRack(NodeFacts node, NodeFacts active) {
    return node.zone().equals(active.zone()) && node.rack().equals(active.rack());
  }
}
