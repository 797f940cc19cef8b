package io.toma.server;

import com.typesafe.config.Config;
import io.toma.config.ClusterConfig;
import com.typesafe.config.ConfigFactory;
import io.toma.api.cluster.NodeIdentity;
import io.toma.topology.TopologyService;
import io.toma.persistence.JournalConfig;
import io.toma.persistence.JournalSetup;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.TimeUnit;
import org.apache.pekko.Done;
import org.apache.pekko.actor.CoordinatedShutdown;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.http.javadsl.Http;
import org.apache.pekko.http.javadsl.ServerBinding;

/** One Toma node: its own ActorSystem, cluster member, journal and (on managers) HTTP API. */
final class TomaNode {
  private static final Duration STARTUP_TIMEOUT = Duration.ofSeconds(60);

  private final NodePlan plan;
  private final ActorSystem<NodeGuardian.Start> system;
  private final Optional<ServerBinding> http;
  private final Optional<TopologyService> topology;

  private TomaNode(NodePlan plan, ActorSystem<NodeGuardian.Start> system, Optional<ServerBinding> http,
      Optional<TopologyService> topology) {
    this.plan = plan;
    this.system = system;
    this.http = http;
    this.topology = topology;
  }

  /**
   * The configuration the node's ActorSystem runs with: cluster and journal over the base, and a
   * {@code node:<id>} cluster role, so managers tell a node's membership from its id by gossip, and
   * a {@code node-id:<id>} role, the name the fault router gives a lost member.
   */
  static Config pekkoConfig(NodePlan plan) {
    List<String> roles = new ArrayList<>(plan.settings().node().clusterRoles());
    roles.add(NodeIdentity.role(plan.nodeId()));
    // The fault router (topology-manager, FaultRouter.Membership) names a lost member by its
    // node-id:<id> role; without it a kill -9 is routed as host:port and reaches no volume.
    roles.add("node-id:" + plan.nodeId());
    return ConfigFactory.parseMap(Map.of("pekko.cluster.roles", roles), "node identity of " + plan.nodeId())
        .withFallback(ClusterConfig.overrides(plan.settings()))
        .withFallback(JournalConfig.overrides(plan.settings()))
        .withFallback(plan.config());
  }

  /**
   * Starts the node and returns once its journal tables exist and its HTTP API (if any) is bound.
   *
   * @throws NodeStartException when the journal or the HTTP port cannot be set up; the node's
   *     ActorSystem is terminated by then
   */
  static TomaNode start(NodePlan plan, NodeServices services) {
    NodeRuntime.checkHealing(plan.settings());
    Optional<NodeHardware> hardware;
    try {
      hardware = NodeRuntime.hasStorageRole(plan) ? Optional.of(services.hardware().apply(plan)) : Optional.empty();
    } catch (RuntimeException e) {
      throw new NodeStartException("node " + plan.nodeId() + " has no usable disks: " + e.getMessage(), e);
    }
    ActorSystem<NodeGuardian.Start> system;
    try {
      system =
          ActorSystem.create(
              NodeGuardian.create(plan, hardware),
              plan.settings().cluster().systemName(),
              pekkoConfig(plan));
    } catch (RuntimeException e) {
      // Typically the cluster port is taken (another node or demo already running).
      throw new NodeStartException(
          "could not start node " + plan.nodeId() + " on " + plan.settings().cluster().canonical()
              + ": " + e.getMessage(),
          e);
    }
    try {
      await(JournalSetup.createTablesIfMissing(system), "create the journal tables");
      Optional<TopologyService> topology = NodeRuntime.startManager(system, plan);
      system.tell(NodeGuardian.Start.INSTANCE);
      Optional<ServerBinding> binding = Optional.empty();
      if (topology.isPresent()) {
        var http = plan.settings().http();
        binding =
            Optional.of(
                await(
                    Http.get(system)
                        .newServerAt(http.bindAddress(), http.port())
                        .bind(NodeRuntime.routes(system, plan, services, topology.get())),
                    "serve HTTP on " + http.bindAddress() + ":" + http.port()));
        binding.get().addToCoordinatedShutdown(Duration.ofSeconds(5), system);
      }
      return new TomaNode(plan, system, binding, topology);
    } catch (NodeStartException e) {
      system.terminate();
      system.getWhenTerminated().toCompletableFuture().join();
      throw e;
    }
  }

  private static <T> T await(CompletionStage<T> stage, String what) {
    try {
      return stage.toCompletableFuture().get(STARTUP_TIMEOUT.toMillis(), TimeUnit.MILLISECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new NodeStartException("interrupted while trying to " + what, e);
    } catch (Exception e) {
      Throwable cause = e.getCause() != null ? e.getCause() : e;
      throw new NodeStartException("could not " + what + ": " + cause.getMessage(), cause);
    }
  }

  NodePlan plan() {
    return plan;
  }

  String nodeId() {
    return plan.nodeId();
  }

  ActorSystem<?> system() {
    return system;
  }

  Optional<ServerBinding> http() {
    return http;
  }

  /** The topology service, on a manager. */
  Optional<TopologyService> topology() {
    return topology;
  }

  /** Leaves the cluster and stops the node through Pekko's coordinated shutdown. */
  CompletionStage<Done> stop() {
    return CoordinatedShutdown.get(system)
        .runAll(CoordinatedShutdown.actorSystemTerminateReason())
        .thenCompose(done -> system.getWhenTerminated());
  }

  /**
   * Terminates the ActorSystem as a crash would: with coordinated shutdown off for terminate (the
   * demo's setting) the node does not leave, and the others see it unreachable.
   */
  CompletionStage<Done> crash() {
    system.terminate();
    return system.getWhenTerminated();
  }
}
