package io.toma.server;

import com.typesafe.config.ConfigFactory;
import io.prometheus.metrics.model.registry.PrometheusRegistry;
import io.toma.config.Role;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;

/**
 * The running demo: every node of a demo layout started in this process over one simulated world
 * ({@link SimWorld}), and stopped in an order that lets each leave the cluster cleanly: the
 * managers first, manager-1 last, so nothing decides about the storage nodes' departure, then the
 * storage nodes together; every survivor sees a graceful leave, not a crash. Nodes can also be crashed (their ActorSystem terminated without leaving, as a
 * machine losing power) and started again as a new incarnation on the same address.
 */
final class DemoCluster implements DemoMembers {
  /**
   * Each ActorSystem would otherwise run its own JVM hooks, all at once and in no order; and a
   * terminate without coordinated shutdown is how a node crashes: no leave, the others see it
   * unreachable. A graceful stop runs coordinated shutdown explicitly ({@link TomaNode#stop()}).
   */
  static final String DEMO_NODE_OVERRIDES =
      "pekko.jvm-shutdown-hooks = off\npekko.coordinated-shutdown.run-by-actor-system-terminate = off\n"
          // Eight members' cluster and sharding start-up chatter would bury Toma's own lines;
          // Pekko's warnings (unreachable, downed) still show.
          + "pekko.loglevel = WARNING";

  private final List<NodePlan> plans;
  private final Map<String, TomaNode> running = new LinkedHashMap<>();
  private final Map<String, CompletableFuture<Void>> crashing = new LinkedHashMap<>();
  private final SimWorld world;
  private final NodeServices services;
  private final PrometheusRegistry frontRegistry = new PrometheusRegistry();

  private DemoCluster(List<NodePlan> plans) {
    this.plans = plans.stream().map(DemoCluster::withDemoOverrides).toList();
    this.world = SimWorld.start(this.plans);
    world.host().register(frontRegistry);
    this.services = new NodeServices(world::hardware, Optional.of(new SimFaults(world, this.plans, this)), Optional.empty());
  }

  /**
   * Starts the nodes one after the other (the first creates the journal tables the others share).
   *
   * @throws NodeStartException after stopping the nodes already started
   */
  static DemoCluster start(List<NodePlan> plans) {
    DemoCluster demo = new DemoCluster(plans);
    try {
      for (NodePlan plan : demo.plans) {
        demo.startNode(plan);
      }
    } catch (NodeStartException e) {
      demo.stop();
      throw e;
    }
    Runtime.getRuntime().addShutdownHook(new Thread(demo::stop, "toma-demo-shutdown"));
    return demo;
  }

  private static NodePlan withDemoOverrides(NodePlan plan) {
    return new NodePlan(
        plan.settings(),
        ConfigFactory.parseString(DEMO_NODE_OVERRIDES).withFallback(plan.config()),
        plan.simulatedDisks());
  }

  private TomaNode startNode(NodePlan plan) {
    boolean front = plan.nodeId().equals(plans.get(0).nodeId());
    TomaNode node = TomaNode.start(plan, services.withRegistry(front ? Optional.of(frontRegistry) : Optional.empty()));
    synchronized (this) {
      running.put(plan.nodeId(), node);
    }
    return node;
  }

  synchronized List<TomaNode> nodes() {
    return List.copyOf(running.values());
  }

  List<NodePlan> plans() {
    return plans;
  }

  /**
   * Waits until every storage node registered with all its disks ({@link DemoReadiness}); returns
   * what is still missing after {@code timeout} (empty: the demo takes volumes).
   */
  List<String> awaitReady(java.time.Duration timeout) {
    return front().topology().map(t -> DemoReadiness.await(t, plans, timeout))
        .orElse(List.of(plans.get(0).nodeId() + " serves no topology service"));
  }

  SimWorld world() {
    return world;
  }

  /** The manager that serves the README's URL; never a fault target. */
  synchronized TomaNode front() {
    return running.get(plans.get(0).nodeId());
  }

  Optional<NodePlan> plan(String nodeId) {
    return plans.stream().filter(p -> p.nodeId().equals(nodeId)).findFirst();
  }

  @Override
  public synchronized boolean isRunning(String nodeId) {
    return running.containsKey(nodeId);
  }

  /** Terminates the node's ActorSystem without leaving the cluster; returns once it is gone. */
  @Override
  public CompletableFuture<Void> crash(String nodeId) {
    TomaNode node;
    synchronized (this) {
      node = running.remove(nodeId);
    }
    if (node == null) {
      return CompletableFuture.completedFuture(null);
    }
    CompletableFuture<Void> gone = node.crash().toCompletableFuture().thenApply(done -> null);
    synchronized (this) {
      crashing.put(nodeId, gone);
    }
    return gone;
  }

  /** Starts a crashed node again: a new incarnation on the same address, which rejoins. */
  @Override
  public void restart(String nodeId) {
    NodePlan plan = plan(nodeId).orElseThrow(() -> new IllegalArgumentException("no node " + nodeId));
    CompletableFuture<Void> gone;
    synchronized (this) {
      gone = crashing.remove(nodeId);
    }
    if (gone != null) {
      gone.join(); // the old incarnation must have released its port
    }
    if (!isRunning(nodeId)) {
      startNode(plan);
    }
  }

  /** Stops every node; returns when all have left and terminated. Safe to call twice. */
  void stop() {
    List<TomaNode> nodes = nodes();
    List<TomaNode> storage =
        nodes.stream().filter(n -> !n.plan().settings().node().hasRole(Role.MANAGER)).toList();
    List<TomaNode> managers =
        new ArrayList<>(nodes.stream().filter(n -> n.plan().settings().node().hasRole(Role.MANAGER)).toList());
    // Managers first: a manager that watched the storage nodes leave would take each departure
    // for a node loss and persist failovers and lost members, so a demo stopped and started
    // again would come back degraded. Without managers nothing decides while the rest leave.
    for (int i = managers.size() - 1; i >= 0; i--) {
      managers.get(i).stop().toCompletableFuture().join();
    }
    CompletableFuture.allOf(
            storage.stream().map(n -> n.stop().toCompletableFuture()).toArray(CompletableFuture[]::new))
        .join();
    world.close();
  }
}
