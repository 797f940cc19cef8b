package io.toma.bench.failover;

import io.toma.bench.Mode;
import io.toma.bench.Report;
import io.toma.systemtest.HostWriter;
import io.toma.systemtest.LoopbackNetwork;
import io.toma.systemtest.TomaCluster;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * Issue 9, benchmark 1: the I/O stall a host sees when the node holding its volume's active
 * controller is killed. A real cluster of {@code toma server} processes on loopback (the
 * product's disaggregated {@link Layout}: 3 managers, disk-only and controller-only nodes on
 * simulated machines joined by the wire fabric) on a throwaway PostgreSQL; one volume (1 leg x 2
 * replicas, 1 standby); a host in this JVM writes a 4 KiB block every 10 ms through NVMe-oF
 * multipath and logs every acknowledgement. Each round: {@code kill -9} the active controller's
 * node, wait for the host's first acknowledgement after it, restart the node and wait for a
 * standby again. A full run adds converged storage nodes (each round on a fresh cluster). Stall = last acknowledgement before the kill → first after; the
 * split comes from the volume's failover stage events (detection, fencing, promotion). Run once
 * with the tuned failure detector and once with Pekko's defaults.
 */
public final class FailoverBench {
  private static final Duration WRITE_EVERY = Duration.ofMillis(10);

  /**
   * The tuned detector as shipped (toma-cluster.conf), Pekko's defaults as the reference, and a
   * faster detector (acceptable pause 500 ms) as a measured what-if, not shipped: -D options over
   * the node file.
   */
  static final List<Detector> DETECTORS = List.of(
      new Detector("tuned (toma-cluster.conf): heartbeat 200 ms, acceptable pause 1 s, threshold 8,"
          + " unreachable check every 100 ms, SBR stable-after 3 s",
          List.of("-Dpekko.cluster.failure-detector.heartbeat-interval=200ms",
              "-Dpekko.cluster.failure-detector.acceptable-heartbeat-pause=1s",
              "-Dpekko.cluster.unreachable-nodes-reaper-interval=100ms",
              "-Dpekko.cluster.split-brain-resolver.stable-after=3s")),
      new Detector("Pekko defaults: heartbeat 1 s, acceptable pause 3 s, threshold 8, unreachable check every 1 s,"
          + " SBR stable-after 20 s",
          List.of("-Dpekko.cluster.failure-detector.heartbeat-interval=1s",
              "-Dpekko.cluster.failure-detector.acceptable-heartbeat-pause=3s",
              "-Dpekko.cluster.unreachable-nodes-reaper-interval=1s",
              "-Dpekko.cluster.split-brain-resolver.stable-after=20s")),
      new Detector("what-if, not shipped: heartbeat 200 ms, acceptable pause 500 ms, threshold 8,"
          + " unreachable check every 100 ms, SBR stable-after 3 s",
          List.of("-Dpekko.cluster.failure-detector.heartbeat-interval=200ms",
              "-Dpekko.cluster.failure-detector.acceptable-heartbeat-pause=500ms",
              "-Dpekko.cluster.unreachable-nodes-reaper-interval=100ms",
              "-Dpekko.cluster.split-brain-resolver.stable-after=3s")));

  record Detector(String name, List<String> jvmOptions) {}

  private FailoverBench() {}

  /** The main rows: the disaggregated layout, both detectors; then the converged layout (tuned) in a full run. */
  public static Report run(Mode mode, String command) {
    // -Dtoma.bench.failover.converged-only=true: the converged rows alone (3 kills, or 5 in a full run).
    boolean convergedOnly = Boolean.getBoolean("toma.bench.failover.converged-only");
    int kills = convergedOnly ? 0 : mode.pick(0, 3, 20);
    // -Dtoma.bench.failover.converged-kills=N: as many converged rounds (0 leaves them out).
    int convergedKills = Integer.getInteger("toma.bench.failover.converged-kills",
        convergedOnly ? mode.pick(0, 3, 5) : mode.pick(0, 0, 5));
    Layout main = Layout.disaggregated();
    Report report = new Report("Failover stall after kill -9 of the active controller's node", command)
        .setting("cluster", main.description() + "; one `toma server` process each on loopback, journal on a"
            + " throwaway PostgreSQL")
        .setting("data path", "host in the benchmark JVM -> NVMe-oF multipath (ANA) -> wire fabric over loopback TCP"
            + " -> active controller's raid1 -> both replicas' disk nodes")
        .setting("volume", "64 MiB, 1 leg x 2 replicas at node level, 1 active + 1 standby controller")
        .setting("rounds", "disaggregated: on one cluster, the killed controller node restarted after each round"
            + " (it becomes the spare for the next new standby); the next round waits for the volume Online with a"
            + " standby and the host holding a live path to both controllers")
        .setting("host", "one 4 KiB write every " + WRITE_EVERY.toMillis() + " ms, each re-issued while the kernel"
            + " holds it; acknowledgements timed with System.nanoTime")
        .setting("healing", "controller-failover-confirm " + CONFIRM + " (toma.healing), self-fence 3 s, fault router"
            + " tick 100 ms")
        .setting("kills per detector", kills)
        .setting("converged rows", convergedKills == 0
            ? "not in this mode (a full run adds " + Layout.converged().description() + ", tuned detector, each round"
                + " on a fresh cluster)"
            : Layout.converged().description() + ", tuned detector, " + convergedKills + " kills, each on a fresh"
                + " cluster: the self-fence rule for an active that holds a member of its own volume");
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
    for (Detector detector : kills > 0 ? detectors(mode) : List.<Detector>of()) {
      summaries.add(runOne(report, root, main, detector, kills));
    }
    if (convergedKills > 0) {
      summaries.add(runOne(report, root, Layout.converged(), DETECTORS.get(0), convergedKills));
    }
    report.table(Round.Summary.comparison(summaries));
    report.note("stall: the longest silence between two acknowledged writes, from the last one before the kill to"
        + " the first one after the promotion, as the host saw them (its writes are held, not failed, while no path"
        + " is usable); host resumed: Promoted -> the acknowledgement that ended that silence");
    report.note("detection: kill -> the volume's failover Detected event, of which unreachable: kill -> a majority"
        + " sees the node unreachable (failure detector, gossip), confirm: that -> the fault router reports it"
        + " (controller-failover-confirm and the router's tick; for a node reported on downing instead, the wait"
        + " for downing), routing: the fault -> the volume persists Detected; fencing: Detected -> Fenced (every"
        + " reachable disk node revoked the old controller); promotion: Fenced -> Promoted (standby optimized);"
        + " host: Promoted -> first acknowledgement (ANA change seen through the keep-alive, 100 ms)");
    return report;
  }

  /**
   * The detector settings a run measures: the shipped one and Pekko's defaults (the reference) in
   * every mode, the not-shipped what-if in a full run only, to keep the quick mode short;
   * {@code -Dtoma.bench.failover.detectors=tuned,defaults,whatif} picks them by key.
   */
  static List<Detector> detectors(Mode mode) {
    String picked = System.getProperty("toma.bench.failover.detectors",
        mode == Mode.FULL ? "tuned,defaults,whatif" : "tuned,defaults");
    List<String> keys = List.of(picked.split(","));
    return DETECTORS.stream().filter(d -> keys.contains(detectorKey(d))).toList();
  }

  private static Round.Summary runOne(Report report, Path root, Layout layout, Detector detector, int kills) {
    long started = System.nanoTime();
    Round.Summary summary = new FailoverRun(root, layout, detector, kills).execute();
    report.table(summary.roundsTable());
    summary.failureNotes().forEach(f -> report.note(layout.key() + ", " + detectorKey(detector) + ", " + f));
    report.note(layout.key() + ", " + detectorKey(detector) + ": " + summary.rounds().size() + " rounds in "
        + (System.nanoTime() - started) / 1_000_000_000L + " s");
    return summary;
  }

  /** toma.healing.controller-failover-confirm as shipped (reference.conf). */
  static final String CONFIRM = "100 ms";

  static String detectorKey(Detector detector) {
    return detector.name().startsWith("tuned") ? "tuned" : detector.name().startsWith("Pekko") ? "defaults" : "whatif";
  }

  static String ms(double millis) {
    return String.format(Locale.ROOT, "%.0f ms", millis);
  }

  static Path workDir(Path root, Layout layout, Detector detector) {
    return root.resolve("bench/target/failover").resolve(layout.key() + "-" + detectorKey(detector));
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

  static LoopbackNetwork network(Layout layout) {
    return LoopbackNetwork.withNodes(layout.nodes().size());
  }

  static HostWriter host(TomaCluster cluster, Layout layout, String volumeId) {
    return HostWriter.start(volumeId, layout.controllerNodes().stream().map(cluster::endpoint).toList(), WRITE_EVERY);
  }
}
