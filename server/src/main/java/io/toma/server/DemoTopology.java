package io.toma.server;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigFactory;
import io.toma.config.HostPort;
import io.toma.config.TomaSettings;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * The demo cluster, in one process: two managers and six storage nodes (disk and controller
 * roles), two per rack over three racks in one zone. Every node is its own cluster member on its
 * own loopback port, so a node fault in the demo is a real member loss seen by gossip.
 *
 * <p>Ports count up from the configured canonical port (manager-1 gets it; 2551 by default) and
 * HTTP port (manager-1: 8080, manager-2: 8081). manager-1 serves the API the README points at and
 * is never a fault target; it sits in rack {@code mgmt} with manager-2, apart from the storage.
 */
final class DemoTopology {
  static final int STORAGE_NODES = 6;
  static final int RACKS = 3;
  static final String MANAGER_RACK = "mgmt";
  static final String FAULT_EXEMPT_NODE = "manager-1";

  /** Mixed disk sizes, so placement by free space has something to do. */
  private static final long[] DISK_SIZES = {
    1 * SimulatedDisk.TIB, 2 * SimulatedDisk.TIB, 4 * SimulatedDisk.TIB
  };

  private DemoTopology() {}

  /**
   * The demo's node plans, managers first (manager-1 is the first seed).
   *
   * @throws io.toma.config.InvalidSettingsException when the base configuration is broken
   */
  static List<NodePlan> plans(Config base) {
    TomaSettings baseSettings = TomaSettings.load(base);
    String host = baseSettings.cluster().canonical().host();
    int firstPort = baseSettings.cluster().canonical().port();
    int firstHttpPort = baseSettings.http().port();
    String zone = baseSettings.node().zone();
    List<String> seeds =
        List.of(new HostPort(host, firstPort).toString(), new HostPort(host, firstPort + 1).toString());

    List<NodePlan> plans = new ArrayList<>();
    for (int m = 0; m < 2; m++) {
      Map<String, Object> node = nodeValues("manager-" + (m + 1), List.of("manager"), zone, MANAGER_RACK);
      node.put("toma.cluster.canonical-port", firstPort + m);
      node.put("toma.cluster.seed-nodes", seeds);
      node.put("toma.http.port", firstHttpPort + m);
      node.put("toma.node.fabric-address", new HostPort(host, 4420).toString());
      plans.add(plan(node, base, List.of()));
    }
    for (int i = 0; i < STORAGE_NODES; i++) {
      String nodeId = "node-" + (i + 1);
      String rack = "r" + (i / (STORAGE_NODES / RACKS) + 1);
      Map<String, Object> node = nodeValues(nodeId, List.of("disk", "controller"), zone, rack);
      node.put("toma.cluster.canonical-port", firstPort + 2 + i);
      node.put("toma.cluster.seed-nodes", seeds);
      // Each simulated target gets its own NVMe-oF port, as separate machines would.
      node.put("toma.node.fabric-address", new HostPort(host, 4421 + i).toString());
      List<SimulatedDisk> disks =
          List.of(
              new SimulatedDisk(nodeId + "-nvme0", DISK_SIZES[i % DISK_SIZES.length]),
              new SimulatedDisk(nodeId + "-nvme1", DISK_SIZES[(i + 1) % DISK_SIZES.length]));
      plans.add(plan(node, base, disks));
    }
    return List.copyOf(plans);
  }

  private static Map<String, Object> nodeValues(String id, List<String> roles, String zone, String rack) {
    Map<String, Object> values = new HashMap<>();
    values.put("toma.node.id", id);
    values.put("toma.node.roles", roles);
    values.put("toma.node.zone", zone);
    values.put("toma.node.rack", rack);
    return values;
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
