package io.toma.server;

import io.toma.topology.NodeView;
import io.toma.topology.TopologyResult;
import io.toma.topology.TopologyService;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import java.util.function.Function;
import java.util.stream.Collectors;

/**
 * When the demo can take a volume: every storage node of its plan registered with the manager,
 * with all its disks. Cluster membership alone ({@code GET /api/v1/health} shows every member
 * {@code up}) comes first; the agents register a little later, and a volume created in between
 * was refused with "no disk registered".
 */
final class DemoReadiness {
  private DemoReadiness() {}

  /** What is still missing, in words (one entry per node); empty once every storage node is in. */
  static List<String> missing(List<NodePlan> plans, List<NodeView> registered) {
    Map<String, NodeView> byId = registered.stream().collect(Collectors.toMap(NodeView::id, Function.identity()));
    List<String> missing = new ArrayList<>();
    for (NodePlan plan : plans) {
      if (!NodeRuntime.hasStorageRole(plan)) {
        continue;
      }
      NodeView node = byId.get(plan.nodeId());
      if (node == null) {
        missing.add(plan.nodeId() + " not registered");
        continue;
      }
      List<String> absent = plan.simulatedDisks().stream().map(SimulatedDisk::diskId)
          .filter(d -> node.disks().stream().noneMatch(v -> v.id().equals(d) && v.healthy())).toList();
      if (!absent.isEmpty()) {
        missing.add(plan.nodeId() + " without disk(s) " + String.join(", ", absent));
      }
    }
    return missing;
  }

  /**
   * Asks the topology service every 250 ms until nothing is missing or {@code timeout} passed;
   * returns what is still missing (empty: ready).
   */
  static List<String> await(TopologyService topology, List<NodePlan> plans, Duration timeout) {
    long deadline = System.nanoTime() + timeout.toNanos();
    List<String> missing = List.of("no answer from the topology service yet");
    while (true) {
      Optional<List<NodeView>> nodes = listed(topology);
      if (nodes.isPresent()) {
        missing = missing(plans, nodes.get());
      }
      if (missing.isEmpty() || System.nanoTime() > deadline) {
        return missing;
      }
      try {
        TimeUnit.MILLISECONDS.sleep(250); // the main thread polls; no actor waits here
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        return missing;
      }
    }
  }

  private static Optional<List<NodeView>> listed(TopologyService topology) {
    try {
      TopologyResult<List<NodeView>> result = topology.listNodes().toCompletableFuture().get(10, TimeUnit.SECONDS);
      return result instanceof TopologyResult.Ok<List<NodeView>> ok ? Optional.of(ok.value()) : Optional.empty();
    } catch (Exception e) {
      return Optional.empty(); // asked again on the next round
    }
  }
}
