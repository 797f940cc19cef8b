package io.toma.server;

import io.toma.api.health.HealthRoute;
import io.toma.config.Role;
import io.toma.config.TomaSettings;
import java.util.stream.Collectors;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.actor.typed.javadsl.ActorContext;
import org.apache.pekko.http.javadsl.server.Route;

/**
 * What runs on a node, by role: the one place where a node's actors are spawned and its HTTP routes
 * assembled. Called once per node, after the journal tables exist, with the node's guardian context.
 */
final class NodeRuntime {
  private NodeRuntime() {}

  /** Spawns the node's actors as children of its guardian. */
  static void spawnActors(ActorContext<?> guardian, NodePlan plan) {
    TomaSettings.Node node = plan.settings().node();
    if (node.hasRole(Role.DISK) || node.hasRole(Role.CONTROLLER) || node.hasRole(Role.HOST)) {
      // The node agent (io.toma.agent.NodeAgent, node-actors) goes here: it registers this node
      // and plan.simulatedDisks() (or the disks it finds) and reconciles the kernel.
      guardian
          .getLog()
          .info(
              "{} ({}) in {}/{} with disks [{}]: no node agent yet, the node only joins the cluster",
              node.id(),
              roleNames(node),
              node.zone(),
              node.rack(),
              plan.simulatedDisks().stream().map(SimulatedDisk::toString).collect(Collectors.joining(", ")));
    }
    if (node.hasRole(Role.MANAGER)) {
      // The topology manager's sharded entities (VirtualDisk, PhysicalDisk, ControllerNode) are
      // initialised here.
      guardian.getLog().info("{} (manager) in {}/{}", node.id(), node.zone(), node.rack());
    }
  }

  /** The HTTP API this node serves; only managers serve one. */
  static Route routes(ActorSystem<?> system, NodePlan plan) {
    return HealthRoute.create(system);
  }

  private static String roleNames(TomaSettings.Node node) {
    return node.roles().stream().map(Role::configName).sorted().collect(Collectors.joining(", "));
  }
}
