package io.toma.server;

import io.toma.agent.NodeAgent;
import io.toma.kernel.sim.SimCluster;
import io.toma.kernel.sim.SimDisk;
import io.toma.kernel.sim.SimNode;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The demo's simulated hardware: one {@link SimCluster} for the whole process, with a simulated
 * node per storage node (its disks, at the node's own fabric address) and the demo host. Simulated
 * time only moves when told: a clock thread advances it by the wall time elapsed, every 100 ms, and
 * lets the demo host do its I/O in between.
 */
final class SimWorld implements AutoCloseable {
  static final Duration TICK = Duration.ofMillis(100);
  static final Duration REPORT_EVERY = Duration.ofSeconds(5);

  private static final Logger log = LoggerFactory.getLogger(SimWorld.class);

  private final SimCluster cluster = SimCluster.create();
  private final Map<String, NodeHardware> hardware = new TreeMap<>();
  private final DemoHost host;
  private final ScheduledExecutorService clock;
  private long lastNanos = System.nanoTime();
  private long lastReportNanos = System.nanoTime();
  private String lastReport = "";

  private SimWorld(List<NodePlan> plans) {
    for (NodePlan plan : plans) {
      if (!NodeRuntime.hasStorageRole(plan)) {
        continue;
      }
      SimNode node = cluster.addNode(plan.nodeId(), plan.settings().node().fabricAddress().host());
      List<NodeAgent.DiskSpec> disks = new ArrayList<>();
      for (SimulatedDisk d : plan.simulatedDisks()) {
        SimDisk disk = node.addDisk(d.diskId(), d.sizeBytes());
        disks.add(new NodeAgent.DiskSpec(disk.id(), disk.path()));
      }
      hardware.put(plan.nodeId(), new NodeHardware(node.kernel(), node.fabricAddress(), disks));
    }
    host = new DemoHost(cluster);
    clock = Executors.newSingleThreadScheduledExecutor(r -> {
      Thread t = new Thread(r, "toma-demo-sim-clock");
      t.setDaemon(true);
      return t;
    });
  }

  /** Builds the simulated nodes of every storage plan and starts the clock. */
  static SimWorld start(List<NodePlan> plans) {
    SimWorld world = new SimWorld(plans);
    world.clock.scheduleWithFixedDelay(world::tick, TICK.toMillis(), TICK.toMillis(), TimeUnit.MILLISECONDS);
    return world;
  }

  SimCluster cluster() {
    return cluster;
  }

  DemoHost host() {
    return host;
  }

  /** The simulated node of a storage plan, as its agent drives it. */
  NodeHardware hardware(NodePlan plan) {
    NodeHardware h = hardware.get(plan.nodeId());
    if (h == null) {
      throw new IllegalArgumentException("no simulated node for " + plan.nodeId());
    }
    return h;
  }

  // A throwing task would silently stop the executor, and with it time: log and carry on.
  private void tick() {
    try {
      long now = System.nanoTime();
      cluster.advance(Duration.ofNanos(now - lastNanos));
      lastNanos = now;
      host.tick();
      if (now - lastReportNanos >= REPORT_EVERY.toNanos()) {
        lastReportNanos = now;
        String report = host.counters().toString();
        if (!report.equals(lastReport)) {
          log.info("demo host {}: {}", DemoHost.HOST_NQN, report);
          lastReport = report;
        }
      }
    } catch (RuntimeException e) {
      log.error("demo clock tick failed; the next tick tries again", e);
    }
  }

  @Override
  public void close() {
    clock.shutdownNow();
  }
}
