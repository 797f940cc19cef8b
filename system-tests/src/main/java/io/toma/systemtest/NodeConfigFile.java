package io.toma.systemtest;

import java.nio.file.Path;
import java.util.List;
import java.util.stream.Collectors;

/**
 * The configuration file one test node runs with ({@code -Dconfig.file=...}): who it is, where it
 * listens, the seeds, the shared PostgreSQL journal, and the fast failure detector.
 */
public final class NodeConfigFile {
  private NodeConfigFile() {}

  public static String render(
      NodeSpec node, Endpoint endpoint, List<Endpoint> seeds, JournalDatabase journal, Path dataDir) {
    return String.join(
        "\n",
        "toma {",
        "  node {",
        "    id = " + quote(node.id()),
        "    roles = [" + node.roles().stream().map(NodeConfigFile::quote).collect(Collectors.joining(", ")) + "]",
        "    zone = " + quote(node.zone()),
        "    rack = " + quote(node.rack()),
        "    fabric-address = " + quote(endpoint.fabricHost() + ":" + endpoint.fabricPort()),
        // A simulated machine per process; the NVMe-oF fabric between them is the wire protocol.
        "    kernel = simulated",
        "    simulated-disks = [" + disks(node) + "]",
        "  }",
        "  http { bind-address = " + quote(endpoint.host()) + ", port = " + endpoint.httpPort() + " }",
        "  cluster {",
        "    canonical-hostname = " + quote(endpoint.host()),
        "    canonical-port = " + endpoint.clusterPort(),
        // Every node is a seed, so a restarted first node joins the running cluster instead of
        // founding a second one on its own.
        "    seed-nodes = ["
            + seeds.stream().map(s -> quote(s.clusterHostPort())).collect(Collectors.joining(", ")) + "]",
        "  }",
        "  journal = postgres",
        "  jdbc {",
        "    url = " + quote(journal.jdbcUrl()),
        "    user = " + quote(journal.user()),
        "    password = " + quote(journal.password()),
        "  }",
        "  data-dir = " + quote(dataDir.toString()),
        "}",
        // The fast detector of toma-cluster.conf, with a longer acceptable pause: three JVMs
        // starting on two cores stall each other for over a second, and a false 'unreachable'
        // there would down a healthy node before the test begins.
        "pekko.cluster.failure-detector {",
        "  heartbeat-interval = 200ms",
        "  acceptable-heartbeat-pause = 2s",
        "}",
        "pekko.cluster.split-brain-resolver.stable-after = 3s",
        // Work-around, to move into `toma server` itself: a node downed while its network is cut
        // can hang for ever in actor-system-terminate (flushing remote transports to peers it
        // cannot reach), so its process never exits and it keeps whatever it held. Exiting the
        // JVM when downed bounds that to the phase timeout (10 s); exit code -1 (255).
        "pekko.coordinated-shutdown.reason-overrides.\"org.apache.pekko.actor.CoordinatedShutdown$ClusterDowningReason$\".exit-jvm = on",
        "");
  }

  /** Disks per node and their size: room for the scenarios' volumes and their rebuilds. */
  public static final int DISKS_PER_NODE = 2;
  public static final String DISK_SIZE = "16GiB";

  /** A node without the disk role has no disks: a controller-only node of a disaggregated layout. */
  private static String disks(NodeSpec node) {
    if (!node.roles().contains("disk")) {
      return "";
    }
    return java.util.stream.IntStream.range(0, DISKS_PER_NODE)
        .mapToObj(i -> "{ id = " + quote(node.id() + "-d" + i) + ", size = " + DISK_SIZE + " }")
        .collect(Collectors.joining(", "));
  }

  private static String quote(String value) {
    return "\"" + value.replace("\\", "\\\\").replace("\"", "\\\"") + "\"";
  }
}
