package io.toma.systemtest;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Three real Toma processes, each in its own network namespace, sharing one PostgreSQL journal;
 * one node's link is cut so it is partitioned from the other two, then healed. Needs root and
 * iproute2; skipped with a message otherwise.
 */
class PartitionTest {
  private static final Duration SBR_TIMEOUT = Duration.ofSeconds(90);

  private static Optional<NamespaceNetwork> network = Optional.empty();
  private static Optional<TestPostgres> postgres = Optional.empty();
  private static Optional<TomaCluster> cluster = Optional.empty();
  private final VolumeClient volumes = new VolumeClient();

  @BeforeAll
  static void startClusterInNamespaces() {
    NamespaceNetwork.unavailableBecause().ifPresent(SystemTestSetup::skip);
    NamespaceNetwork.Outcome made = NamespaceNetwork.create(SystemTestSetup.repoRoot(), 3);
    if (made instanceof NamespaceNetwork.NotMade notMade) {
      SystemTestSetup.skip(notMade.reason());
    }
    network = Optional.of(((NamespaceNetwork.Made) made).network());
    // PostgreSQL listens on the host leg of the test network, so every namespace reaches it.
    TestPostgres.Outcome outcome =
        TestPostgres.start(
            SystemTestSetup.repoRoot(),
            List.of(NamespaceNetwork.HOST_ADDRESS),
            Optional.of(NamespaceNetwork.SUBNET));
    if (outcome instanceof TestPostgres.Unavailable unavailable) {
      network.get().close();
      network = Optional.empty();
      SystemTestSetup.skip(unavailable.reason());
    }
    postgres = Optional.of(((TestPostgres.Started) outcome).postgres());
    cluster =
        Optional.of(
            TomaCluster.start(
                SystemTestSetup.repoRoot(),
                SystemTestSetup.workDir(PartitionTest.class),
                network.get(),
                postgres.get().database(),
                SystemTestSetup.threeNodesWithAllRoles()));
  }

  @AfterAll
  static void stopEverything() {
    try {
      cluster.ifPresent(TomaCluster::close);
    } finally {
      try {
        postgres.ifPresent(TestPostgres::close);
      } finally {
        network.ifPresent(NamespaceNetwork::close);
      }
    }
  }

  @Test
  void a_node_partitioned_from_the_other_two_downs_itself_the_majority_carries_on_and_the_node_rejoins_after_healing() {
    TomaCluster c = cluster.orElseThrow();
    NamespaceNetwork net = network.orElseThrow();
    List<String> majority = List.of(c.memberAddress("n1"), c.memberAddress("n2"));
    TomaProcess minority = c.process("n3");
    // Once the real server serves volumes, one volume rides through the partition.
    Optional<Volume> volume =
        volumes.volumesUnsupportedBecause(c.endpoint("n1"), Duration.ofSeconds(60)).isEmpty()
            ? Optional.of(onlineVolume(c))
            : Optional.empty();

    net.cut(3);

    // The majority (2 of 3) keeps its members and downs n3; its API answers throughout, and no
    // volume ever shows two optimized controllers (two writers) in between.
    for (String survivor : List.of("n1", "n2")) {
      Health after =
          Poll.until(
              survivor + " to down the partitioned n3 and carry on with n1 and n2 up",
              SBR_TIMEOUT,
              () -> {
                volume.ifPresent(v -> assertAtMostOneOptimized(c, survivor, v.id()));
                Health h = c.health(survivor);
                return h.exactlyTheseUp(majority) ? Poll.Seen.done(h, h.summary()) : Poll.Seen.notYet(h.summary());
              });
      assertEquals("up", after.self().status(), survivor + " itself stays up: " + after.summary());
    }
    volume.ifPresent(
        v ->
            Poll.until(
                "the volume active on the majority side",
                SBR_TIMEOUT,
                () -> {
                  Optional<Volume> seen = assertAtMostOneOptimized(c, "n1", v.id());
                  return seen.flatMap(Volume::activeController).filter(n -> !n.equals("n3")).isPresent()
                      ? Poll.Seen.done(seen.get(), seen.get().summary())
                      : Poll.Seen.notYet(seen.map(Volume::summary).orElse("503: shard moving"));
                }));

    // The minority's Split Brain Resolver downs its own side: the process stops by itself.
    int exitCode =
        minority
            .awaitExit(SBR_TIMEOUT)
            .orElseThrow(
                () -> new AssertionError(
                    "the partitioned n3 was still running after " + SBR_TIMEOUT.toSeconds() + " s"
                        + c.logHint("n3")));
    assertNotEquals(0, exitCode, "n3 stops as a downed node, not as a requested shutdown");
    c.exited("n3");

    net.heal(3);
    TomaProcess returned = c.restart("n3");
    assertEquals(2, returned.incarnation(), "a second process for n3");
    c.awaitEveryoneUp();
    assertEquals(3, c.health("n3").members().size(), c.health("n3").summary());
    volume.ifPresent(v -> assertAtMostOneOptimized(c, "n3", v.id()));
  }

  private Volume onlineVolume(TomaCluster c) {
    Volume created = volumes.createWhenPlaceable(c.endpoint("n1"), List.of("n1", "n2", "n3"), "mp-partition", "64MiB", 2, SBR_TIMEOUT);
    return Poll.until("the volume Online before the cut", SBR_TIMEOUT, () -> {
      Optional<Volume> v = assertAtMostOneOptimized(c, "n1", created.id());
      return v.filter(x -> "Online".equals(x.state()) && x.activeController().isPresent()).isPresent()
          ? Poll.Seen.done(v.get(), v.get().summary()) : Poll.Seen.notYet(v.map(Volume::summary).orElse("503"));
    });
  }

  private Optional<Volume> assertAtMostOneOptimized(TomaCluster c, String node, String volumeId) {
    Optional<Volume> seen = volumes.tryGet(c.endpoint(node), volumeId);
    seen.ifPresent(v -> assertTrue(v.optimizedControllers().size() <= 1,
        "two optimized controllers seen from " + node + ": " + v.summary()));
    return seen;
  }
}
