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
 * -9: it fails over to its standby and its replicas move, while the API keeps answering; the node
 * comes back with its disks. Skipped (never failed) while the real server does not serve volumes.
 */
class VolumeFailoverTest {
  private static final Duration VOLUME_TIMEOUT = Duration.ofSeconds(90);

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
                LoopbackNetwork.withNodes(3),
                postgres.get().database(),
                SystemTestSetup.threeNodesWithAllRoles(),
                first -> new VolumeClient().volumesUnsupportedBecause(first).ifPresent(SystemTestSetup::skipUntilLanded)));
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
    Volume created = volumes.create(c.endpoint("n1"), "mp-failover", "64MiB", 2);
    Volume online = awaitVolume(c, "n1", created.id(), "the volume Online with one active controller",
        v -> "Online".equals(v.state()) && v.activeController().isPresent());

    String victim = online.activeController().orElseThrow();
    String observer = victim.equals("n1") ? "n2" : "n1";
    List<String> victimDisks = volumes.disksOf(c.endpoint(observer), victim);
    c.kill(victim);

    Volume failedOver =
        awaitVolume(c, observer, online.id(),
            "the standby active in a new epoch and no replica left on the killed " + victim,
            v -> v.activeController().filter(n -> !n.equals(victim)).isPresent()
                && v.epoch() > online.epoch()
                && !v.hasReplicaOn(victim));
    assertEquals(online.epoch() + 1, failedOver.epoch(), "one failover, one epoch: " + failedOver.summary());
    awaitVolume(c, observer, online.id(), "the volume Online again on the survivors",
        v -> "Online".equals(v.state()));

    c.restart(victim);
    c.awaitEveryoneUp();
    List<String> returned =
        Poll.until(
            victim + "'s disks listed again, usable",
            VOLUME_TIMEOUT,
            () -> {
              List<String> disks = volumes.disksOf(c.endpoint(observer), victim);
              return disks.equals(victimDisks) ? Poll.Seen.done(disks, disks.toString())
                  : Poll.Seen.notYet(disks + " (before the kill: " + victimDisks + ")");
            });
    assertTrue(!returned.isEmpty(), victim + " had disks before the kill: " + victimDisks);
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
          Volume v = volumes.get(c.endpoint(node), id);
          assertTrue(v.optimizedControllers().size() <= 1, "two optimized controllers: " + v.summary());
          return done.test(v) ? Poll.Seen.done(v, v.summary()) : Poll.Seen.notYet(v.summary());
        });
  }
}
