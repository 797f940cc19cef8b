package io.toma.systemtest;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;

/**
 * Three real Toma processes on loopback sharing one PostgreSQL journal; one of them is killed with
 * kill -9 and started again.
 */
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class NodeCrashTest {
  private static final Duration DOWNING_TIMEOUT = Duration.ofSeconds(60);

  private static Optional<TestPostgres> postgres = Optional.empty();
  private static Optional<TomaCluster> cluster = Optional.empty();

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
                SystemTestSetup.workDir(NodeCrashTest.class),
                LoopbackNetwork.withNodes(3),
                postgres.get().database(),
                SystemTestSetup.threeNodesWithAllRoles()));
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
  @Order(1)
  void three_nodes_keep_their_journal_in_the_shared_postgresql() throws SQLException {
    JournalDatabase db = postgres.orElseThrow().database();
    try (Connection connection = DriverManager.getConnection(db.jdbcUrl(), db.user(), db.password());
        ResultSet tables = connection.getMetaData().getTables(null, null, "event_journal", null)) {
      assertTrue(tables.next(), "the nodes created the event journal in " + db.jdbcUrl());
    }
    TomaCluster c = cluster.orElseThrow();
    for (String node : List.of("n1", "n2", "n3")) {
      assertTrue(
          c.health(node).exactlyTheseUp(List.of(c.memberAddress("n1"), c.memberAddress("n2"), c.memberAddress("n3"))),
          node + " sees all three up: " + c.health(node).summary());
    }
  }

  @Test
  @Order(2)
  void a_node_killed_with_kill_9_is_seen_unreachable_then_downed_while_the_survivors_keep_answering() {
    TomaCluster c = cluster.orElseThrow();
    String lost = c.memberAddress("n3");
    List<String> survivors = List.of(c.memberAddress("n1"), c.memberAddress("n2"));

    c.kill("n3");

    Poll.until(
        "n1 to see the killed n3 unreachable",
        DOWNING_TIMEOUT,
        () -> {
          Health h = c.health("n1");
          return h.isUnreachable(lost) ? Poll.Seen.done(h, h.summary()) : Poll.Seen.notYet(h.summary());
        });
    for (String survivor : List.of("n1", "n2")) {
      Health after =
          Poll.until(
              survivor + " to down n3 and carry on with n1 and n2 up",
              DOWNING_TIMEOUT,
              () -> {
                Health h = c.health(survivor);
                return h.exactlyTheseUp(survivors) ? Poll.Seen.done(h, h.summary()) : Poll.Seen.notYet(h.summary());
              });
      assertEquals("up", after.self().status(), survivor + " itself stays up: " + after.summary());
    }
  }

  @Test
  @Order(3)
  void the_killed_node_restarted_on_the_same_address_rejoins_as_a_new_incarnation() {
    TomaCluster c = cluster.orElseThrow();
    TomaProcess restarted = c.restart("n3");
    assertEquals(2, restarted.incarnation(), "a second process for n3");

    // Pekko admits a member on a known address only as a new incarnation (new uid), once the
    // old one is gone: every node seeing exactly n1, n2, n3 up is that rejoin.
    c.awaitEveryoneUp();
    Health fromRestarted = c.health("n3");
    assertEquals("up", fromRestarted.self().status(), fromRestarted.summary());
    assertEquals(3, fromRestarted.members().size(), fromRestarted.summary());
  }
}
