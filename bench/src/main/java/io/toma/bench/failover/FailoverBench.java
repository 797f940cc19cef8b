package io.toma.bench.failover;

import io.toma.bench.Mode;
import io.toma.bench.Report;
import io.toma.systemtest.HostWriter;
import io.toma.systemtest.LoopbackNetwork;
import io.toma.systemtest.NodeSpec;
import io.toma.systemtest.TomaCluster;
import io.toma.systemtest.Volume;
import io.toma.systemtest.VolumeClient;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * Issue 9, benchmark 1: the I/O stall a host sees when the node holding its volume's active
 * controller is killed. A real cluster of {@code toma server} processes on loopback (3 managers,
 * 3 storage nodes on simulated machines joined by the wire fabric) on a throwaway PostgreSQL; one
 * volume (1 leg x 2 replicas, 1 standby); a host in this JVM writes a 4 KiB block every 10 ms
 * through NVMe-oF multipath and logs every acknowledgement. Each round: {@code kill -9} the
 * active controller's node, wait for the host's first acknowledgement after it, restart the node
 * and wait for a standby again. Stall = last acknowledgement before the kill → first after; the
 * split comes from the volume's failover stage events (detection, fencing, promotion). Run once
 * with the tuned failure detector and once with Pekko's defaults.
 */
public final class FailoverBench {
  private static final Duration WRITE_EVERY = Duration.ofMillis(10);

  /** The tuned detector (toma-cluster.conf) and Pekko's defaults, as -D options over the node file. */
  static final List<Detector> DETECTORS = List.of(
      new Detector("tuned (toma-cluster.conf): heartbeat 200 ms, acceptable pause 1 s, SBR stable-after 3 s",
          List.of("-Dpekko.cluster.failure-detector.heartbeat-interval=200ms",
              "-Dpekko.cluster.failure-detector.acceptable-heartbeat-pause=1s",
              "-Dpekko.cluster.split-brain-resolver.stable-after=3s")),
      new Detector("Pekko defaults: heartbeat 1 s, acceptable pause 3 s, SBR stable-after 20 s",
          List.of("-Dpekko.cluster.failure-detector.heartbeat-interval=1s",
              "-Dpekko.cluster.failure-detector.acceptable-heartbeat-pause=3s",
              "-Dpekko.cluster.split-brain-resolver.stable-after=20s")));

  record Detector(String name, List<String> jvmOptions) {}

  private FailoverBench() {}

  public static Report run(Mode mode, String command) {
    int kills = mode.pick(0, 3, 20);
    Report report = new Report("Failover stall after kill -9 of the active controller's node", command)
        .setting("cluster", "3 managers (manager role only) + 3 storage nodes (disk, controller; simulated machines, "
            + NODE_DISKS + "), one `toma server` process each on loopback, journal on a throwaway PostgreSQL")
        .setting("data path", "host in the benchmark JVM -> NVMe-oF multipath (ANA) -> wire fabric over loopback TCP"
            + " -> active controller's raid1 -> both replicas' disk nodes")
        .setting("volume", "64 MiB, 1 leg x 2 replicas at node level, 1 active + 1 standby controller; every round"
            + " on a fresh cluster and journal (start, create, attach the host, kill, measure, verify, stop)")
        .setting("host", "one 4 KiB write every " + WRITE_EVERY.toMillis() + " ms, each re-issued while the kernel"
            + " holds it; acknowledgements timed with System.nanoTime")
        .setting("kills per detector", kills);
    if (mode == Mode.SMOKE) {
      return report
          .note("smoke size: no cluster is started in the build; `bench/run failover --quick` runs it")
          .table(new Report.Table("what a run does", List.of("step", "how"), List.of(
              List.of("find the active controller", "GET /api/v1/volumes/{id} on m1"),
              List.of("kill", "kill -9 of that node's process"),
              List.of("stall", "last host acknowledgement before the kill -> first after"),
              List.of("split", "failover stage events (repair-step) on m1's /api/v1/events"),
              List.of("check", "no write failed; every acknowledged block reads back at the end"))));
    }
    Path root = Path.of("").toAbsolutePath();
    if (!Files.isRegularFile(root.resolve("server/target/toma.jar"))) {
      return report.note("server/target/toma.jar is missing: bench/run builds it for failover");
    }
    List<Round.Summary> summaries = new ArrayList<>();
    for (Detector detector : DETECTORS) {
      Round.Summary summary = new FailoverRun(root, detector, kills).execute();
      summaries.add(summary);
      report.table(summary.roundsTable());
      summary.failureNotes().forEach(f -> report.note(detector.name().split(":")[0] + ", " + f));
    }
    report.table(Round.Summary.comparison(summaries));
    report.note("stall: last acknowledged write before the kill -> first acknowledged write after it, as the host"
        + " saw them (its writes are held, not failed, while no path is usable)");
    report.note("detection: kill -> the volume's failover Detected event; fencing: Detected -> Fenced (every"
        + " reachable disk node revoked the old controller); promotion: Fenced -> Promoted (standby optimized);"
        + " host: Promoted -> first acknowledgement (ANA change seen through the keep-alive, 100 ms)");
    return report;
  }

  static final String NODE_DISKS = "2 x 16 GiB disks each";

  /** m1..m3 managers (m1 the oldest: the fault router singleton runs there), s1..s3 storage. */
  static List<NodeSpec> nodes() {
    List<String> storage = List.of("disk", "controller");
    return List.of(
        new NodeSpec(1, "m1", List.of("manager"), "z1", "r0"),
        new NodeSpec(2, "m2", List.of("manager"), "z1", "r0"),
        new NodeSpec(3, "m3", List.of("manager"), "z1", "r0"),
        new NodeSpec(4, "s1", storage, "z1", "r1"),
        new NodeSpec(5, "s2", storage, "z1", "r2"),
        new NodeSpec(6, "s3", storage, "z1", "r3"));
  }

  static String ms(double millis) {
    return String.format(Locale.ROOT, "%.0f ms", millis);
  }

  static Path workDir(Path root, Detector detector) {
    return root.resolve("bench/target/failover").resolve(detector.name().startsWith("tuned") ? "tuned" : "defaults");
  }

  /** An empty directory: a node's data from an earlier run would make it a restarted node. */
  static Path freshDir(Path dir) {
    if (Files.exists(dir)) {
      try (var paths = Files.walk(dir)) {
        paths.sorted(java.util.Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
      } catch (java.io.IOException e) {
        throw new java.io.UncheckedIOException(e);
      }
    }
    return dir;
  }

  static LoopbackNetwork network() {
    return LoopbackNetwork.withNodes(nodes().size());
  }

  static Volume createVolume(VolumeClient volumes, TomaCluster cluster, String name) {
    return volumes.createWhenPlaceable(cluster.endpoint("m1"), List.of("s1", "s2", "s3"), name, "64MiB", 2,
        Duration.ofSeconds(120));
  }

  static HostWriter host(TomaCluster cluster, String volumeId) {
    return HostWriter.start(volumeId, List.of("s1", "s2", "s3").stream().map(cluster::endpoint).toList(), WRITE_EVERY);
  }
}
