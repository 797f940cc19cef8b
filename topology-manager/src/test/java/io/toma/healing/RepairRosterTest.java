package io.toma.healing;

import static org.junit.jupiter.api.Assertions.assertEquals;

import io.toma.testing.TestTopology;
import java.time.Duration;
import java.util.Set;
import org.apache.pekko.actor.testkit.typed.javadsl.TestProbe;
import org.apache.pekko.cluster.sharding.typed.javadsl.ClusterSharding;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;

/** The roster of volumes in repair survives in its journal, and its waker wakes exactly them. */
class RepairRosterTest {

  static final TestTopology topology = new TestTopology("RepairRosterTest", TestTopology.fastSettings());

  @AfterAll
  static void shutdown() {
    topology.close();
  }

  @Test
  void the_waker_wakes_every_volume_with_a_repair_under_way_and_none_that_finished() {
    var roster = ClusterSharding.get(topology.testKit.system()).entityRefFor(RepairRoster.TYPE_KEY, RepairRoster.ID);
    roster.tell(new RepairRoster.Enter("vol-failing-over"));
    roster.tell(new RepairRoster.Enter("vol-rebuilt"));
    roster.tell(new RepairRoster.Leave("vol-rebuilt"));
    TestProbe<RepairRoster.State> state = topology.testKit.createTestProbe();
    state.awaitAssert(Duration.ofSeconds(30), () -> {
      roster.tell(new RepairRoster.Get(state.getRef()));
      assertEquals(Set.of("vol-failing-over"), state.receiveMessage().volumes());
      return null;
    });

    TestProbe<String> woken = topology.testKit.createTestProbe();
    topology.testKit.spawn(RepairRoster.Waker.create(Duration.ofMillis(200), woken.getRef()::tell));

    assertEquals("vol-failing-over", woken.receiveMessage(Duration.ofSeconds(60)), "woken at start");
    assertEquals("vol-failing-over", woken.receiveMessage(Duration.ofSeconds(60)), "and again on the interval");
  }
}
