package io.toma.api.cluster;

import io.toma.agent.AgentProtocol;
import io.toma.agent.NodeAgent;
import io.toma.kernel.KernelException;
import io.toma.kernel.KernelState;
import io.toma.kernel.Names;
import io.toma.kernel.sim.SimCluster;
import io.toma.kernel.sim.SimDisk;
import io.toma.kernel.sim.SimNode;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.actor.typed.Props;

/** Storage nodes for tests: simulated kernels with one disk each, and real node agents over them. */
final class SimStorage {
  final SimCluster cluster = SimCluster.create();
  private final ActorSystem<?> system;
  private final Path dataDir;
  final List<ActorRef<AgentProtocol.Command>> agents = new ArrayList<>();

  SimStorage(ActorSystem<?> system, Path dataDir) {
    this.system = system;
    this.dataDir = dataDir;
  }

  /**
   * A disk node (one disk) or a controller node (none) in the given rack, its agent re-reconciling
   * every second. Not both roles on one node: a converged node's reconcile connects to its own leg
   * member before it exports it, and never gets past that connect (reported to the lead).
   */
  SimStorage node(String nodeId, String rack, int index, String role, long diskBytes) {
    SimNode node = cluster.addNode(nodeId, "127.0.1." + index);
    List<NodeAgent.DiskSpec> disks = new ArrayList<>();
    if (role.equals("disk")) {
      SimDisk disk = node.addDisk(nodeId + "-nvme0", diskBytes);
      disks.add(new NodeAgent.DiskSpec(disk.id(), disk.path()));
    }
    NodeAgent.Settings settings = NodeAgent.Settings.of(
            nodeId, Set.of(role), "z1", rack, node.fabricAddress(),
            Names.NQN_PREFIX + "host:" + nodeId, disks, dataDir.resolve(nodeId))
        .withIntervals(Duration.ofSeconds(1), Duration.ofMillis(500), Duration.ofSeconds(5));
    agents.add(system.systemActorOf(NodeAgent.create(settings, node.kernel()), "agent-" + nodeId, Props.empty()));
    return this;
  }

  /** Every Toma object a node's kernel holds: dm devices, subsystems, ports, host controllers. */
  List<String> tomaObjects() {
    List<String> found = new ArrayList<>();
    for (SimNode node : cluster.nodes()) {
      KernelState s;
      try {
        s = node.kernel().read();
      } catch (KernelException e) {
        throw new AssertionError(e);
      }
      s.dmDevices().keySet().stream().filter(n -> n.startsWith(Names.PREFIX)).forEach(n -> found.add(node.id() + " dm " + n));
      s.subsystems().keySet().forEach(n -> found.add(node.id() + " subsystem " + n));
      s.ports().keySet().forEach(p -> found.add(node.id() + " port " + p));
      s.controllers().forEach(c -> found.add(node.id() + " controller " + c.subsystemNqn()));
    }
    return found;
  }
}
