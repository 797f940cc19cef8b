package io.toma.server;

import com.typesafe.config.Config;
import io.toma.agent.NodeAgent;
import io.toma.kernel.sim.SimCluster;
import io.toma.kernel.sim.SimDisk;
import io.toma.kernel.sim.SimNode;
import io.toma.kernel.sim.wire.WireFabric;
import io.toma.kernel.sim.wire.WireTargetServer;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * {@code toma server} with {@code toma.node.kernel = simulated}: this process's node is a
 * simulated machine (its disks from {@code toma.node.simulated-disks}) whose NVMe-oF fabric
 * crosses processes. Its nvmet targets are served over TCP at {@code toma.node.fabric-address}
 * ({@link WireTargetServer}); its connections to other nodes' addresses go to the same port at
 * those addresses ({@link WireFabric}). Every node of the cluster needs its own fabric address
 * (on one machine: 127.0.1.1, 127.0.1.2, ...) and the same port. Simulated time follows the wall
 * clock, advanced every 100 ms.
 */
final class SimulatedMachine implements AutoCloseable {
  static final Duration TICK = Duration.ofMillis(100);
  private static final Logger log = LoggerFactory.getLogger(SimulatedMachine.class);

  private final SimCluster cluster;
  private final WireTargetServer server;
  private final ScheduledExecutorService clock;
  private final NodeHardware hardware;
  private long lastNanos = System.nanoTime();

  private SimulatedMachine(SimCluster cluster, WireTargetServer server, NodeHardware hardware) {
    this.cluster = cluster;
    this.server = server;
    this.hardware = hardware;
    this.clock = Executors.newSingleThreadScheduledExecutor(r -> {
      Thread t = new Thread(r, "toma-sim-clock");
      t.setDaemon(true);
      return t;
    });
  }

  /** Whether the configuration asks for a simulated machine instead of this machine's kernel. */
  static boolean configured(Config config) {
    return config.hasPath("toma.node.kernel") && config.getString("toma.node.kernel").equals("simulated");
  }

  /** The disks of {@code toma.node.simulated-disks}: {@code [{ id = "n1-d0", size = 64GiB }]}. */
  static List<SimulatedDisk> disks(Config config) {
    List<SimulatedDisk> disks = new ArrayList<>();
    int i = 0;
    for (Config entry : config.getConfigList("toma.node.simulated-disks")) {
      if (!entry.hasPath("id") || !entry.hasPath("size")) {
        throw new IllegalArgumentException("toma.node.simulated-disks[" + i + "] needs both id and size");
      }
      disks.add(new SimulatedDisk(entry.getString("id"), entry.getBytes("size")));
      i++;
    }
    return List.copyOf(disks);
  }

  /** Builds the node, starts serving its targets and its clock. */
  static SimulatedMachine start(NodePlan plan) {
    String address = plan.settings().node().fabricAddress().host();
    int port = plan.settings().node().fabricAddress().port();
    SimCluster cluster = SimCluster.withRemoteFabric(WireFabric.onPort(port));
    SimNode node = cluster.addNode(plan.nodeId(), address);
    List<NodeAgent.DiskSpec> specs = new ArrayList<>();
    for (SimulatedDisk d : disks(plan.config())) {
      SimDisk disk = node.addDisk(d.diskId(), d.sizeBytes());
      specs.add(new NodeAgent.DiskSpec(disk.id(), disk.path()));
    }
    WireTargetServer server;
    try {
      server = WireTargetServer.start(cluster.exports(), new InetSocketAddress(address, port));
    } catch (IOException e) {
      throw new UncheckedIOException("cannot serve NVMe-oF targets on " + address + ":" + port, e);
    }
    SimulatedMachine machine = new SimulatedMachine(cluster, server, new NodeHardware(node.kernel(), address, specs));
    machine.clock.scheduleWithFixedDelay(machine::tick, TICK.toMillis(), TICK.toMillis(), TimeUnit.MILLISECONDS);
    log.info("{}: simulated machine, disks {}, NVMe-oF targets served on {}:{}", plan.nodeId(),
        disks(plan.config()), address, port);
    return machine;
  }

  NodeHardware hardware() {
    return hardware;
  }

  // A throwing task would silently stop the executor, and with it time: log and carry on.
  private void tick() {
    try {
      long now = System.nanoTime();
      cluster.advance(Duration.ofNanos(now - lastNanos));
      lastNanos = now;
    } catch (RuntimeException e) {
      log.error("simulated clock tick failed; the next tick tries again", e);
    }
  }

  @Override
  public void close() {
    clock.shutdownNow();
    server.close();
  }
}
