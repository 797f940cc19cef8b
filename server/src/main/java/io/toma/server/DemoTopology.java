package io.toma.server;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigFactory;
import io.toma.config.HostPort;
import io.toma.config.TomaSettings;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.function.IntUnaryOperator;

/**
 * The demo cluster, in one process: two managers and six storage nodes, two per rack over three
 * racks in one zone. Every node is its own cluster member on its own loopback port, so a node fault
 * in the demo is a real member loss seen by gossip.
 *
 * <p>In each rack one storage node is a disk node (two simulated disks) and one a controller node.
 * Not both roles on every node: a node that is disk and controller at once connects to its own leg
 * member before exporting it and never gets past that connect (node-actors' reconcile order,
 * reported); splitting the roles keeps every reconcile converging.
 *
 * <p>Ports count up from the configured canonical port (manager-1 gets it; 2551 by default) and
 * HTTP port (manager-1: 8080, manager-2: 8081). manager-1 serves the API the README points at and
 * is never a fault target; it sits in rack {@code mgmt} with manager-2, apart from the storage.
 * Each storage node's NVMe-oF address is its own loopback-like label {@code 127.0.1.<n>}.
 */
final class DemoTopology {
  static final int RACKS = 3;
  static final String MANAGER_RACK = "mgmt";
  static final String FAULT_EXEMPT_NODE = "manager-1";

  /** Mixed disk sizes, so placement by free space has something to do. */
  private static final long[] DISK_SIZES = {
    1 * SimulatedDisk.TIB, 2 * SimulatedDisk.TIB, 4 * SimulatedDisk.TIB
  };

  /** One node of a demo layout: id, roles, rack and simulated disks. */
  record DemoNode(String id, List<String> roles, String rack, List<SimulatedDisk> disks) {
    DemoNode {
      roles = List.copyOf(roles);
      disks = List.copyOf(disks);
    }

    boolean isManager() {
      return roles.contains("manager");
    }
  }

  private DemoTopology() {}

  /** The README's demo: manager-1, manager-2, then node-1..node-6 (odd: disk, even: controller). */
  static List<DemoNode> standardNodes() {
    List<DemoNode> nodes = new ArrayList<>();
    nodes.add(new DemoNode("manager-1", List.of("manager"), MANAGER_RACK, List.of()));
    nodes.add(new DemoNode("manager-2", List.of("manager"), MANAGER_RACK, List.of()));
    for (int rack = 0; rack < RACKS; rack++) {
      String diskNode = "node-" + (2 * rack + 1);
      nodes.add(new DemoNode(diskNode, List.of("disk"), "r" + (rack + 1), List.of(
          new SimulatedDisk(diskNode + "-nvme0", DISK_SIZES[rack % DISK_SIZES.length]),
          new SimulatedDisk(diskNode + "-nvme1", DISK_SIZES[(rack + 1) % DISK_SIZES.length]))));
      nodes.add(new DemoNode("node-" + (2 * rack + 2), List.of("controller"), "r" + (rack + 1), List.of()));
    }
    return List.copyOf(nodes);
  }

  /**
   * The demo's node plans, managers first (manager-1 is the first seed), on consecutive ports.
   *
   * @throws io.toma.config.InvalidSettingsException when the base configuration is broken
   */
  static List<NodePlan> plans(Config base) {
    TomaSettings baseSettings = TomaSettings.load(base);
    int firstPort = baseSettings.cluster().canonical().port();
    int firstHttpPort = baseSettings.http().port();
    return plans(base, standardNodes(), i -> firstPort + i, m -> firstHttpPort + m);
  }

  /**
   * Plans for any demo layout: node {@code i} gets cluster port {@code clusterPort(i)}, manager
   * {@code m} HTTP port {@code httpPort(m)}; the first two managers are the seeds.
   */
  static List<NodePlan> plans(Config base, List<DemoNode> nodes, IntUnaryOperator clusterPort, IntUnaryOperator httpPort) {
    TomaSettings baseSettings = TomaSettings.load(base);
    String host = baseSettings.cluster().canonical().host();
    String zone = baseSettings.node().zone();
    List<String> seeds = new ArrayList<>();
    for (int i = 0; i < nodes.size() && seeds.size() < 2; i++) {
      if (nodes.get(i).isManager()) {
        seeds.add(new HostPort(host, clusterPort.applyAsInt(i)).toString());
      }
    }
    List<NodePlan> plans = new ArrayList<>();
    int managers = 0;
    int storage = 0;
    for (int i = 0; i < nodes.size(); i++) {
      DemoNode n = nodes.get(i);
      Map<String, Object> values = new HashMap<>();
      values.put("toma.node.id", n.id());
      values.put("toma.node.roles", n.roles());
      values.put("toma.node.zone", zone);
      values.put("toma.node.rack", n.rack());
      values.put("toma.cluster.canonical-port", clusterPort.applyAsInt(i));
      values.put("toma.cluster.seed-nodes", seeds);
      if (n.isManager()) {
        values.put("toma.http.port", httpPort.applyAsInt(managers++));
        values.put("toma.node.fabric-address", new HostPort(host, 4420).toString());
      } else {
        storage++;
        values.put("toma.node.fabric-address", new HostPort("127.0.1." + storage, 4420).toString());
      }
      plans.add(plan(values, base, n.disks()));
    }
    return List.copyOf(plans);
  }

  /**
   * All demo members share one JVM, so one stall of the process (a GC pause, a starved CPU) looks
   * like every member failing at once; with the production pause of 1 s a busy laptop saw members
   * flap and the Split Brain Resolver down everyone. 3 s rides that out and still detects a
   * stopped member in about 4 s.
   */
  static final String DEMO_FAILURE_DETECTOR =
      "pekko.cluster.failure-detector.acceptable-heartbeat-pause = 3s";

  private static NodePlan plan(Map<String, Object> values, Config base, List<SimulatedDisk> disks) {
    Config config =
        ConfigFactory.parseMap(values, "demo node " + values.get("toma.node.id"))
            .withFallback(ConfigFactory.parseString(DEMO_FAILURE_DETECTOR))
            .withFallback(base);
    return new NodePlan(TomaSettings.load(config), config, disks);
  }
}
