package io.toma.bench.failover;

import io.toma.systemtest.HostWriter;
import io.toma.systemtest.Poll;
import io.toma.systemtest.TestPostgres;
import io.toma.systemtest.TomaCluster;
import io.toma.systemtest.Volume;
import io.toma.systemtest.VolumeClient;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.OptionalDouble;
import java.util.OptionalLong;
import java.util.function.Predicate;

/** One cluster, one detector setting, {@code kills} rounds. */
final class FailoverRun {
  private static final Duration PATIENCE = Duration.ofSeconds(180);

  private final Path root;
  private final FailoverBench.Detector detector;
  private final int kills;
  private final VolumeClient volumes = new VolumeClient();

  FailoverRun(Path root, FailoverBench.Detector detector, int kills) {
    this.root = root;
    this.detector = detector;
    this.kills = kills;
  }

  /**
   * Each round on a fresh cluster and journal: the measure is one failover from a fully
   * protected volume. (Rounds on one cluster, restarting the killed node in between, stalled in
   * the second round on a placement the restarted cluster could not apply: see docs/benchmarks.md.)
   */
  Round.Summary execute() {
    List<Round> rounds = new ArrayList<>();
    String name = "bench-" + (detector.name().startsWith("tuned") ? "tuned" : "defaults");
    long failed = 0;
    long acknowledged = 0;
    int blocks = 0;
    List<String> problems = new ArrayList<>();
    Optional<String> aborted = Optional.empty();
    for (int i = 1; i <= kills && aborted.isEmpty(); i++) {
      TestPostgres.Outcome pg = TestPostgres.start(root, List.of("127.0.0.1"), Optional.empty());
      if (pg instanceof TestPostgres.Unavailable u) {
        aborted = Optional.of("PostgreSQL unavailable: " + u.reason());
        break;
      }
      try (TestPostgres postgres = ((TestPostgres.Started) pg).postgres();
          TomaCluster cluster = TomaCluster.start(root, FailoverBench.freshDir(
                  FailoverBench.workDir(root, detector).resolve("round-" + i)),
              FailoverBench.network(), postgres.database(), FailoverBench.nodes(), first -> { },
              detector.jvmOptions());
          EventLog events = EventLog.follow(cluster.endpoint("m1"))) {
        Volume created = FailoverBench.createVolume(volumes, cluster, name);
        volumes.attach(cluster.endpoint("m1"), created.id(), HostWriter.HOST_NQN);
        try (HostWriter host = FailoverBench.host(cluster, created.id())) {
          rounds.add(round(i, cluster, events, host, created.id()));
          HostWriter.Verification verification = host.verify(Duration.ofSeconds(60));
          HostWriter.Counters counters = host.counters();
          failed += counters.failed();
          host.failures().stream().limit(1).forEach(f -> problems.add("round " + rounds.size() + " write failed: " + f));
          acknowledged += counters.acknowledged();
          blocks += verification.blocksChecked();
          problems.addAll(verification.mismatches());
          problems.addAll(verification.unreadable());
        }
      } catch (AssertionError e) {
        aborted = Optional.of("round " + i + ": " + e.getMessage().lines().findFirst().orElse("?"));
      }
    }
    return new Round.Summary(detector.name(), rounds, failed, acknowledged, blocks, problems, aborted);
  }

  private Round round(int index, TomaCluster cluster, EventLog events, HostWriter host, String volumeId) {
    Volume ready = awaitVolume(cluster, volumeId, "round " + index + ": the volume Online with a standby",
        v -> "Online".equals(v.state()) && v.activeController().isPresent() && v.controllers().size() >= 2);
    awaitAcks(host, 50, "round " + index + ": the host writing");
    String victim = ready.activeController().orElseThrow();
    long killWall = System.currentTimeMillis();
    long killNanos = System.nanoTime();
    cluster.kill(victim);

    long firstAfter = Poll.until("round " + index + ": the host's first acknowledgement after killing " + victim,
        PATIENCE, () -> {
          OptionalLong first = host.acks().firstAfter(killNanos);
          return first.isPresent() ? Poll.Seen.done(first.getAsLong(), "acknowledged")
              : Poll.Seen.notYet(host.counters() + " paths " + host.paths() + " " + host.lastProblem());
        });
    long lastBefore = host.acks().lastAtOrBefore(killNanos).orElse(killNanos);
    double stall = (firstAfter - lastBefore) / 1e6;
    awaitVolume(cluster, volumeId, "round " + index + ": a new active controller",
        v -> v.activeController().filter(n -> !n.equals(victim)).isPresent());
    Poll.until("round " + index + ": the Promoted event", Duration.ofSeconds(30), () ->
        events.first(volumeId, "failover: Promoted", killWall).isPresent()
            ? Poll.Seen.done(true, "seen") : Poll.Seen.notYet("not yet"));
    awaitAcks(host, host.acks().size() + 20, "round " + index + ": the host writing after the failover");
    OptionalLong detected = at(events, volumeId, "failover: Detected", killWall);
    OptionalLong fenced = at(events, volumeId, "failover: Fenced", killWall);
    OptionalLong promoted = at(events, volumeId, "failover: Promoted", killWall);
    double firstAckWall = killWall + (firstAfter - killNanos) / 1e6;
    return new Round(index, victim, stall,
        between(OptionalLong.of(killWall), detected), between(detected, fenced), between(fenced, promoted),
        promoted.isPresent() ? OptionalDouble.of(firstAckWall - promoted.getAsLong()) : OptionalDouble.empty());
  }

  private static OptionalLong at(EventLog events, String volumeId, String prefix, long since) {
    return events.first(volumeId, prefix, since).map(e -> OptionalLong.of(e.timestampMillis())).orElse(OptionalLong.empty());
  }

  private static OptionalDouble between(OptionalLong from, OptionalLong to) {
    return from.isPresent() && to.isPresent() ? OptionalDouble.of(to.getAsLong() - from.getAsLong()) : OptionalDouble.empty();
  }

  private void awaitAcks(HostWriter host, int atLeast, String awaited) {
    Poll.until(awaited, PATIENCE, () -> host.counters().acknowledged() >= atLeast
        ? Poll.Seen.done(true, "acknowledged")
        : Poll.Seen.notYet(host.counters() + " paths " + host.paths() + " " + host.lastProblem()));
  }

  private Volume awaitVolume(TomaCluster cluster, String id, String awaited, Predicate<Volume> done) {
    return Poll.until(awaited, PATIENCE, () -> {
      Optional<Volume> v = volumes.tryGet(cluster.endpoint("m1"), id);
      if (v.isPresent() && v.get().optimizedControllers().size() > 1) {
        throw new AssertionError("two optimized controllers: " + v.get().summary());
      }
      return v.filter(done).isPresent() ? Poll.Seen.done(v.get(), v.get().summary())
          : Poll.Seen.notYet(v.map(Volume::summary).orElse("503"));
    });
  }
}
