package io.toma.server;

import com.typesafe.config.ConfigFactory;
import io.toma.config.Role;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;

/**
 * The running demo: every node of {@link DemoTopology} started in this process, and stopped in
 * an order that lets each leave the cluster cleanly: storage nodes first (together), then the
 * managers, manager-1 last, so the survivors always see a graceful leave and not a crash.
 */
final class DemoCluster {
  private final List<TomaNode> nodes;

  private DemoCluster(List<TomaNode> nodes) {
    this.nodes = List.copyOf(nodes);
  }

  /**
   * Starts the nodes one after the other (the first creates the journal tables the others share).
   *
   * @throws NodeStartException after stopping the nodes already started
   */
  static DemoCluster start(List<NodePlan> plans) {
    List<TomaNode> started = new ArrayList<>();
    try {
      for (NodePlan plan : plans) {
        started.add(TomaNode.start(withoutOwnShutdownHook(plan)));
      }
    } catch (NodeStartException e) {
      new DemoCluster(started).stop();
      throw e;
    }
    DemoCluster demo = new DemoCluster(started);
    Runtime.getRuntime().addShutdownHook(new Thread(demo::stop, "toma-demo-shutdown"));
    return demo;
  }

  // Each ActorSystem would otherwise run its own JVM hooks, all at once and in no order; Artery's
  // hook cuts every member's connections at once, and the members still up see the others as
  // crashed instead of leaving.
  private static NodePlan withoutOwnShutdownHook(NodePlan plan) {
    return new NodePlan(
        plan.settings(),
        ConfigFactory.parseString("pekko.jvm-shutdown-hooks = off").withFallback(plan.config()),
        plan.simulatedDisks());
  }

  List<TomaNode> nodes() {
    return nodes;
  }

  /** The manager that serves the README's URL; never a fault target. */
  TomaNode front() {
    return nodes.get(0);
  }

  /** Stops every node; returns when all have left and terminated. Safe to call twice. */
  void stop() {
    List<TomaNode> storage =
        nodes.stream().filter(n -> !n.plan().settings().node().hasRole(Role.MANAGER)).toList();
    List<TomaNode> managers =
        nodes.stream().filter(n -> n.plan().settings().node().hasRole(Role.MANAGER)).toList();
    CompletableFuture.allOf(
            storage.stream().map(n -> n.stop().toCompletableFuture()).toArray(CompletableFuture[]::new))
        .join();
    for (int i = managers.size() - 1; i >= 0; i--) {
      managers.get(i).stop().toCompletableFuture().join();
    }
  }
}
