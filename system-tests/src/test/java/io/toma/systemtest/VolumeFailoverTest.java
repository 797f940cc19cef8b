package io.toma.systemtest;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * A volume on a real three-process cluster loses the node holding its active controller to kill
 * -9 while a host in the test's JVM writes to it across processes (NVMe-oF multipath over the
 * wire fabric): it fails over to its standby and its replicas move, the host carries on writing
 * and reads back every write that was acknowledged, the API keeps answering; the node comes back
 * as a new incarnation with its disks, which placement can use again. Skipped (never failed)
 * while the real server does not serve volumes.
 */
class VolumeFailoverTest {
  private static final Duration VOLUME_TIMEOUT = Duration.ofSeconds(90);
  private static final List<String> STORAGE = List.of("n2", "n3", "n4");

  private static Optional<TestPostgres> postgres = Optional.empty();
  private static Optional<TomaCluster> cluster = Optional.empty();
  private final VolumeClient volumes = new VolumeClient();

  @BeforeAll
  static void startClusterOnSharedPostgres() {
    TestPostgres.Outcome outcome =
        TestPostgres.start(SystemTestSetup.repoRoot(), List.of("127.0.0.1"), Optional.empty());
    if (outcome instanceof TestPostgres.Unavailable unavailable) {
      SystemTestSetup.skip(unavailable.reason());
    }
    postgres = Optional.of(((TestPostgres.Started) outcome).postgres());
    cluster =
        Optional.of(
            TomaCluster.start(
                SystemTestSetup.repoRoot(),
                SystemTestSetup.workDir(VolumeFailoverTest.class),
                LoopbackNetwork.withNodes(4),
                postgres.get().database(),
                SystemTestSetup.managerThenThreeStorageNodes(),
                first -> new VolumeClient().volumeApiMissingBecause(first).ifPresent(SystemTestSetup::skipUntilLanded)));
  }

  @AfterAll
  static void stopEverything() {
    try {
      cluster.ifPresent(TomaCluster::close);
    } finally {
      postgres.ifPresent(TestPostgres::close);
    }
  }

  @Test
  void killing_the_node_of_the_active_controller_fails_the_volume_over_moves_its_replicas_and_the_node_returns_with_its_disks() {
    TomaCluster c = cluster.orElseThrow();
    Volume created = volumes.createWhenPlaceable(c.endpoint("n1"), STORAGE, "mp-failover", "64MiB", 2, VOLUME_TIMEOUT);
    volumes.attach(c.endpoint("n1"), created.id(), HostWriter.HOST_NQN);
    Volume online = awaitVolume(c, "n1", created.id(), "the volume Online with one active controller",
        v -> "Online".equals(v.state()) && v.activeController().isPresent());

    try (HostWriter host = HostWriter.start(online.id(), endpoints(c), Duration.ofMillis(10))) {
      awaitAcks(host, 50, "the host writing through the active controller");
      String victim = online.activeController().orElseThrow();
      String observer = "n1";
      List<String> victimDisks = volumes.disksOf(c.endpoint(observer), victim);
      long killedAt = System.nanoTime();
      c.kill(victim);

      failsOverAndReturns(c, online, victim, observer, victimDisks);
      int before = host.acks().size();
      awaitAcks(host, before + 50, "the host writing again after the failover");
      assertTrue(host.acks().firstAfter(killedAt).isPresent(), "acknowledged writes after the kill");
      HostWriter.Verification verification = host.verify(VOLUME_TIMEOUT);
      assertTrue(verification.allReadBack(), "every acknowledged write reads back: " + verification);
      assertTrue(verification.blocksChecked() > 0, "the host wrote something: " + verification);
      assertEquals(0, host.counters().failed(), "no write failed (the host queues while no path is usable): "
          + host.lastProblem());
    }
  }

  private static List<Endpoint> endpoints(TomaCluster c) {
    return STORAGE.stream().map(c::endpoint).toList();
  }

  private static void awaitAcks(HostWriter host, int atLeast, String awaited) {
    Poll.until(awaited + " (" + atLeast + " acknowledged writes)", VOLUME_TIMEOUT, () -> {
      HostWriter.Counters counters = host.counters();
      String seen = counters + " paths " + host.paths() + " last problem: " + host.lastProblem();
      return counters.acknowledged() >= atLeast ? Poll.Seen.done(counters, seen) : Poll.Seen.notYet(seen);
    });
  }

  private void failsOverAndReturns(TomaCluster c, Volume online, String victim, String observer,
      List<String> victimDisks) {
    Volume failedOver =
        awaitVolume(c, observer, online.id(),
            "the standby active in a new epoch and no replica left on the killed " + victim,
            v -> v.activeController().filter(n -> !n.equals(victim)).isPresent()
                && v.epoch() > online.epoch()
                && !v.hasReplicaOn(victim));
    assertEquals(online.epoch() + 1, failedOver.epoch(), "one failover, one epoch: " + failedOver.summary());
    awaitVolume(c, observer, online.id(), "the volume Online again on the survivors",
        v -> "Online".equals(v.state()));

    TomaProcess returnedProcess = c.restart(victim);
    assertEquals(2, returnedProcess.incarnation(), victim + " returns as a second process");
    c.awaitEveryoneUp();
    // The returned node lists the same disks (their state: see below).
    List<String> victimDiskIds = ids(victimDisks);
    List<String> returned =
        Poll.until(
            victim + "'s disks listed again",
            VOLUME_TIMEOUT,
            () -> {
              List<String> disks = ids(volumes.disksOf(c.endpoint(observer), victim));
              return disks.equals(victimDiskIds) ? Poll.Seen.done(disks, disks.toString())
                  : Poll.Seen.notYet(disks + " (before the kill: " + victimDisks + ")");
            });
    assertTrue(!returned.isEmpty(), victim + " had disks before the kill: " + victimDisks);
    // Placement uses the returned node's disks again: three replicas on three storage nodes need
    // one of them (a refusal, 409, is retried until the patience runs out).
    Volume three = volumes.createWhenPlaceable(c.endpoint(observer), STORAGE, "mp-returned", "64MiB", 3,
        VOLUME_TIMEOUT);
    assertTrue(three.hasReplicaOn(victim), "a replica on the returned " + victim + ": " + three.summary());
  }

  private static List<String> ids(List<String> disks) {
    return disks.stream().map(d -> d.split(" ")[0]).toList();
  }

  /**
   * Polls one node's view of the volume until {@code done}; every look also checks that no more
   * than one controller is optimized (two would mean two writers).
   */
  private Volume awaitVolume(TomaCluster c, String node, String id, String awaited,
      java.util.function.Predicate<Volume> done) {
    return Poll.until(
        awaited + " (seen from " + node + ")",
        VOLUME_TIMEOUT,
        () -> {
          Optional<Volume> seen = volumes.tryGet(c.endpoint(node), id);
          if (seen.isEmpty()) {
            return Poll.Seen.notYet("503: the volume's shard is moving off the lost node");
          }
          Volume v = seen.get();
          assertTrue(v.optimizedControllers().size() <= 1, "two optimized controllers: " + v.summary());
          return done.test(v) ? Poll.Seen.done(v, v.summary()) : Poll.Seen.notYet(v.summary());
        });
  }
}
