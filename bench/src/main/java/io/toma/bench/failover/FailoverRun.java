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

/** One layout, one detector setting, {@code kills} rounds. */
final class FailoverRun {
  private static final Duration PATIENCE = Duration.ofSeconds(180);

  private final Path root;
  private final Layout layout;
  private final FailoverBench.Detector detector;
  private final int kills;
  private final VolumeClient volumes = new VolumeClient();

  FailoverRun(Path root, Layout layout, FailoverBench.Detector detector, int kills) {
    this.root = root;
    this.layout = layout;
    this.detector = detector;
    this.kills = kills;
  }

  /** What one cluster's rounds added up to. */
  private record Tally(long failed, long acknowledged, int blocks) {}

  /**
   * Rounds on a shared cluster when the layout allows it (the killed node restarted before the
   * next round, which waits for the volume to have a standby again), else each on a fresh cluster
   * and journal. A shared cluster whose round fails is replaced by a fresh one for the next round:
   * the failure is reported, not retried into the figures.
   */
  Round.Summary execute() {
    List<Round> rounds = new ArrayList<>();
    String name = "bench-" + layout.key() + "-" + FailoverBench.detectorKey(detector);
    long failed = 0;
    long acknowledged = 0;
    int blocks = 0;
    int clusters = 0;
    List<String> problems = new ArrayList<>();
    Optional<String> aborted = Optional.empty();
    while (rounds.size() < kills && aborted.isEmpty()) {
      clusters++;
      TestPostgres.Outcome pg = TestPostgres.start(root, List.of("127.0.0.1"), Optional.empty());
      if (pg instanceof TestPostgres.Unavailable u) {
        aborted = Optional.of("PostgreSQL unavailable: " + u.reason());
        break;
      }
      int before = rounds.size();
      try (TestPostgres postgres = ((TestPostgres.Started) pg).postgres();
          TomaCluster cluster = TomaCluster.start(root, FailoverBench.freshDir(
                  FailoverBench.workDir(root, layout, detector).resolve("cluster-" + clusters)),
              FailoverBench.network(layout), postgres.database(), layout.nodes(), first -> { },
              detector.jvmOptions());
          EventLog events = EventLog.follow(cluster.endpoint("m1"))) {
        Volume created = volumes.createWhenPlaceable(cluster.endpoint("m1"), layout.diskNodes(), name, "64MiB", 2,
            Duration.ofSeconds(120));
        volumes.attach(cluster.endpoint("m1"), created.id(), HostWriter.HOST_NQN);
        try (HostWriter host = FailoverBench.host(cluster, layout, created.id())) {
          try {
            do {
              Round r = round(rounds.size() + 1, cluster, events, host, created.id());
              rounds.add(r);
              if (layout.roundsShareACluster() && rounds.size() < kills) {
                cluster.restart(r.victim()); // the next round waits for the volume to have a standby again
              }
            } while (layout.roundsShareACluster() && rounds.size() < kills);
          } catch (AssertionError e) {
            String why = "round " + (rounds.size() + 1) + ": " + e.getMessage().lines().findFirst().orElse("?");
            if (rounds.size() == before) {
              aborted = Optional.of(why); // not even one round on a fresh cluster: stop here
            } else {
              problems.add(why + " (a fresh cluster takes over)");
            }
          }
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
        aborted = Optional.of("round " + (rounds.size() + 1) + ": " + e.getMessage().lines().findFirst().orElse("?"));
      }
    }
    return new Round.Summary(layout.key() + ", " + detector.name(), rounds, failed, acknowledged, blocks, clusters,
        problems, aborted);
  }

  private Round round(int index, TomaCluster cluster, EventLog events, HostWriter host, String volumeId) {
    Volume ready = awaitVolume(cluster, volumeId, "round " + index + ": the volume Online with a standby",
        v -> "Online".equals(v.state()) && v.activeController().isPresent() && v.controllers().size() >= 2);
    // The host holds a live path to every controller before the kill, as a host that ran for a
    // while would (it discovers a new standby within half a second).
    for (Volume.Controller c : ready.controllers()) {
      String path = cluster.endpoint(c.node()).fabricHost() + ":";
      Poll.until("round " + index + ": the host's path to " + c.node(), PATIENCE, () ->
          host.paths().stream().anyMatch(p -> p.startsWith(path) && p.endsWith(" live"))
              ? Poll.Seen.done(true, "live") : Poll.Seen.notYet("paths " + host.paths()));
    }
    awaitAcks(host, host.acks().size() + 50, "round " + index + ": the host writing");
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
    awaitVolume(cluster, volumeId, "round " + index + ": a new active controller",
        v -> v.activeController().filter(n -> !n.equals(victim)).isPresent());
    Poll.until("round " + index + ": the Promoted event", Duration.ofSeconds(30), () ->
        events.first(volumeId, "failover: Promoted", killWall).isPresent()
            ? Poll.Seen.done(true, "seen") : Poll.Seen.notYet("not yet"));
    awaitAcks(host, host.acks().size() + 20, "round " + index + ": the host writing after the failover");
    OptionalLong detected = at(events, volumeId, "failover: Detected", killWall);
    OptionalLong fenced = at(events, volumeId, "failover: Fenced", killWall);
    OptionalLong promoted = at(events, volumeId, "failover: Promoted", killWall);
    // The stall is the longest silence between two acknowledgements from the last one before the
    // kill to the first one after the promotion: a write the dying process still acknowledged a
    // few milliseconds after the signal must not pass for the host resuming.
    long lastBefore = host.acks().lastAtOrBefore(killNanos).orElse(killNanos);
    long end = promoted.isPresent()
        ? host.acks().firstAfter(killNanos + (promoted.getAsLong() - killWall) * 1_000_000L).orElse(firstAfter)
        : firstAfter;
    long gapFrom = lastBefore;
    long resumed = firstAfter;
    for (long t = lastBefore; t < end; ) {
      long next = host.acks().firstAfter(t).orElse(end);
      if (next - t > resumed - gapFrom) {
        gapFrom = t;
        resumed = next;
      }
      t = next;
    }
    double stall = (resumed - gapFrom) / 1e6;
    double firstAckWall = killWall + (resumed - killNanos) / 1e6;
    // The router's fault about the victim says how long a majority had seen it unreachable by then.
    Optional<EventLog.Event> fault = events.first(victim, "NodeUnreachable", killWall)
        .or(() -> events.first(victim, "NodeLost", killWall));
    OptionalLong faultAt = fault.map(f -> OptionalLong.of(f.timestampMillis())).orElse(OptionalLong.empty());
    OptionalLong unreachableFor = fault.isPresent() ? unreachableMillis(fault.get().message()) : OptionalLong.empty();
    OptionalLong unreachableAt = faultAt.isPresent() && unreachableFor.isPresent()
        ? OptionalLong.of(faultAt.getAsLong() - unreachableFor.getAsLong()) : OptionalLong.empty();
    return new Round(index, victim, stall,
        between(OptionalLong.of(killWall), detected),
        between(OptionalLong.of(killWall), unreachableAt), between(unreachableAt, faultAt), between(faultAt, detected),
        between(detected, fenced), between(fenced, promoted),
        promoted.isPresent() ? OptionalDouble.of(firstAckWall - promoted.getAsLong()) : OptionalDouble.empty());
  }

  private static final java.util.regex.Pattern UNREACHABLE_FOR =
      java.util.regex.Pattern.compile("unreachable by a majority for (\\d+) ms");

  /** "unreachable by a majority for 1163 ms" in the fault's reason. */
  private static OptionalLong unreachableMillis(String message) {
    java.util.regex.Matcher m = UNREACHABLE_FOR.matcher(message);
    return m.find() ? OptionalLong.of(Long.parseLong(m.group(1))) : OptionalLong.empty();
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
