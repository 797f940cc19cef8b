package io.toma.server;

import io.prometheus.metrics.model.registry.PrometheusRegistry;
import io.toma.agent.NodeAgent;
import io.toma.api.ApiAuth;
import io.toma.api.ApiEvents;
import io.toma.api.ApiServer;
import io.toma.api.cluster.TopicApiEvents;
import io.toma.api.cluster.TopologyClusterOperations;
import io.toma.api.health.HealthRoute;
import io.toma.config.InvalidSettingsException;
import io.toma.config.Role;
import io.toma.config.SettingsProblem;
import io.toma.config.TomaSettings;
import io.toma.healing.HealingSettings;
import io.toma.kernel.Names;
import io.toma.topology.TomaEvents;
import io.toma.topology.TopologyService;
import io.toma.topology.TopologySettings;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.stream.Collectors;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.actor.typed.javadsl.ActorContext;
import org.apache.pekko.http.javadsl.server.Directives;
import org.apache.pekko.http.javadsl.server.Route;

/**
 * What runs on a node, by role: the one place where a node's actors are started and its HTTP
 * routes assembled. {@code manager}: the topology manager (sharded entities, capacity view, report
 * sink) and, where HTTP is served, the API. {@code disk}, {@code controller}, {@code host}: a node
 * agent over the node's kernel.
 */
final class NodeRuntime {
  private static final Duration AGENT_ASK_TIMEOUT = Duration.ofSeconds(10);

  private NodeRuntime() {}

  /** The host NQN a node's kernel connects with (to leg members, as a controller). */
  static String hostNqn(String nodeId) {
    return Names.NQN_PREFIX + "host:" + nodeId;
  }

  /** On a manager: starts the topology manager once the journal tables exist. */
  static Optional<TopologyService> startManager(ActorSystem<?> system, NodePlan plan) {
    if (!plan.settings().node().hasRole(Role.MANAGER)) {
      return Optional.empty();
    }
    TopologySettings settings = TopologySettings.defaults()
        .withSpareReserveFraction(plan.settings().placement().reserveFraction());
    return Optional.of(TopologyService.initServer(system, settings, healing(plan.settings())));
  }

  /**
   * The self-healing settings of a manager, from {@code toma.healing.*}, {@code toma.timeouts.*}
   * (self-fence, host I/O) and {@code toma.rebuild.*}.
   */
  static HealingSettings healing(TomaSettings settings) {
    TomaSettings.Healing h = settings.healing();
    return new HealingSettings(h.graceWindow(), h.rackCorrelationWindow(), h.fenceConfirmTimeout(),
        settings.timeouts().selfFence(), settings.timeouts().hostIoTimeout(),
        settings.rebuild().maxConcurrentPerDisk(), settings.rebuild().maxConcurrentPerNode(),
        h.controllerFailoverConfirm());
  }

  /**
   * Refuses a node whose healing settings the healing code itself finds unsafe. TomaSettings
   * checks the same rules key by key; this guards the two from drifting apart.
   *
   * @throws InvalidSettingsException naming the keys and the rule broken
   */
  static void checkHealing(TomaSettings settings) {
    List<SettingsProblem> problems = healing(settings).problems().stream()
        .map(p -> p.startsWith("healing.")
            ? new SettingsProblem("toma.healing", "toma." + p)
            : new SettingsProblem("toma.timeouts", "toma.timeouts: " + p))
        .toList();
    if (!problems.isEmpty()) {
      throw new InvalidSettingsException(problems);
    }
  }

  static boolean hasStorageRole(NodePlan plan) {
    return !storageRoles(plan).isEmpty();
  }

  private static Set<String> storageRoles(NodePlan plan) {
    return plan.settings().node().roles().stream()
        .filter(r -> r != Role.MANAGER)
        .map(Role::configName)
        .collect(Collectors.toSet());
  }

  /** Spawns the node's agent (storage roles) over its hardware, as a child of its guardian. */
  static void spawnActors(ActorContext<?> guardian, NodePlan plan, Optional<NodeHardware> storage) {
    TomaSettings.Node node = plan.settings().node();
    Set<String> storageRoles = storageRoles(plan);
    if (storage.isEmpty()) {
      guardian.getLog().info("{} (manager) in {}/{}", node.id(), node.zone(), node.rack());
      return;
    }
    NodeHardware hardware = storage.get();
    var agentConfig = plan.config().getConfig("toma.agent");
    NodeAgent.Settings settings = NodeAgent.Settings.of(
            node.id(), storageRoles, node.zone(), node.rack(), hardware.fabricAddress(), hostNqn(node.id()),
            hardware.disks(), plan.settings().dataDir().resolve("agents").resolve(node.id()))
        .withIntervals(
            agentConfig.getDuration("reconcile-interval"),
            agentConfig.getDuration("watch-interval"),
            agentConfig.getDuration("path-grace"))
        // One value for both sides: the managers wait it out before failing over a converged node.
        .withSelfFenceTimeout(plan.settings().timeouts().selfFence());
    guardian.spawn(NodeAgent.create(settings, hardware.kernel()), "agent");
    guardian.getLog().info("{} ({}) in {}/{}: node agent started, NVMe-oF on {}, disks [{}]",
        node.id(), String.join(", ", storageRoles.stream().sorted().toList()), node.zone(), node.rack(),
        hardware.fabricAddress(),
        hardware.disks().stream().map(NodeAgent.DiskSpec::diskId).collect(Collectors.joining(", ")));
  }

  /** The HTTP API a manager serves: /api/v1 over its topology manager, and the health route. */
  static Route routes(ActorSystem<?> system, NodePlan plan, NodeServices services, TopologyService topology) {
    // The SSE stream: every detection, repair step and volume state change the topology manager
    // publishes on its pub-sub topic.
    ApiEvents events = new TopicApiEvents<>(TomaEvents.topic(system),
        e -> TopicApiEvents.event(e.kind(), e.subject(), e.message(), e.timestampMillis()));
    Route api = ApiServer.routes(
        new TopologyClusterOperations(system, topology, AGENT_ASK_TIMEOUT),
        events,
        services.faults(),
        auth(plan.settings().api()),
        services.registry().orElseGet(PrometheusRegistry::new));
    return Directives.concat(api, HealthRoute.create(system));
  }

  static ApiAuth auth(TomaSettings.Api api) {
    if (!api.authEnabled()) {
      return ApiAuth.disabled();
    }
    return ApiAuth.of(api.tokens().stream()
        .map(t -> new ApiAuth.Token(t.token(), t.readOnly() ? ApiAuth.Access.READ_ONLY : ApiAuth.Access.READ_WRITE))
        .toList());
  }
}
