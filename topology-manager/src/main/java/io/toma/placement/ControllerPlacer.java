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
 *
 * <p>Nodes within {@link #NEAR_TIE} hosted controllers of the least loaded count as tied, and ties
 * break on a hash of (volume, node): concurrent creates read the same counts, and a fixed
 * tie-break sent them all to one node whose entity then took their slots one at a time.
 */
public final class ControllerPlacer {

  static final int NEAR_TIE = 1;

  /** Without a volume id (callers that place one volume at a time): exact ties break on node id. */
  public ControllerOutcome place(List<NodeFacts> nodes, int standbys, Set<String> excludedNodes) {
    return place("", nodes, standbys, excludedNodes);
  }

  public ControllerOutcome place(String volumeId, List<NodeFacts> nodes, int standbys, Set<String> excludedNodes) {
    int least = nodes.stream()
        .filter(ControllerPlacer::canHost)
        .filter(n -> !excludedNodes.contains(n.nodeId()))
        .mapToInt(NodeFacts::hostedControllers).min().orElse(0);
    int window = volumeId.isEmpty() ? 0 : NEAR_TIE;
    Comparator<NodeFacts> spread = volumeId.isEmpty()
        ? Comparator.comparing(NodeFacts::nodeId)
        : Comparator.comparingLong((NodeFacts n) -> spreadHash(volumeId, n.nodeId())).thenComparing(NodeFacts::nodeId);
    List<NodeFacts> eligible =
        nodes.stream()
            .filter(ControllerPlacer::canHost)
            .filter(n -> !excludedNodes.contains(n.nodeId()))
            .sorted(Comparator.comparingInt((NodeFacts n) -> Math.max(least + window, n.hostedControllers()))
                .thenComparing(spread))
            .collect(Collectors.toList());
    int needed = 1 + standbys;
    if (eligible.size() < needed) {
      long controllerNodes = nodes.stream().filter(NodeFacts::canHostControllers).count();
      long cordoned = nodes.stream().filter(NodeFacts::canHostControllers).filter(NodeFacts::cordoned).count();
      long lost = nodes.stream().filter(NodeFacts::canHostControllers).filter(NodeFacts::lost).count();
      return new ControllerOutcome.Refused(
          "activeControllers=1 and standbyControllers=" + standbys + " need " + needed
              + " controller nodes; " + eligible.size() + " qualif" + (eligible.size() == 1 ? "ies" : "y")
              + (eligible.isEmpty() ? "" : ": " + eligible.stream().map(NodeFacts::nodeId).sorted().collect(Collectors.joining(", ")))
              + " (" + controllerNodes + " with the controller role, " + cordoned + " cordoned"
              + (lost > 0 ? ", " + lost + " declared lost" : "") + ")");
    }
    NodeFacts active = eligible.get(0);
    List<NodeFacts> rest = new ArrayList<>(eligible.subList(1, eligible.size()));
    rest.sort(
        Comparator.comparing((NodeFacts n) -> sameRack(n, active))
            .thenComparingInt((NodeFacts n) -> Math.max(least + window, n.hostedControllers()))
            .thenComparing(spread));
    return new ControllerOutcome.Chosen(active, rest.subList(0, standbys));
  }

  private static boolean canHost(NodeFacts node) {
    // a node declared lost stays out until it registers again (its agent is back)
    return node.canHostControllers() && node.placeable();
  }

  private static long spreadHash(String volumeId, String nodeId) {
    long h = volumeId.hashCode() * 0x9E3779B97F4A7C15L;
    h = (h ^ nodeId.hashCode()) * 0xBF58476D1CE4E5B9L;
    h ^= h >>> 31;
    return h & Long.MAX_VALUE;
  }

  private static boolean sameRack(NodeFacts node, NodeFacts active) {
    return node.zone().equals(active.zone()) && node.rack().equals(active.rack());
  }
}
