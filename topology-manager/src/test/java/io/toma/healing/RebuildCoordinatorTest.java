package io.toma.healing;

import static org.junit.jupiter.api.Assertions.assertEquals;

import io.toma.healing.RebuildPermits.Key;
import io.toma.healing.Refs.DiskRef;
import io.toma.healing.Refs.LegRef;
import io.toma.healing.RepairScheduler.PendingRepair;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicLong;
import org.apache.pekko.actor.testkit.typed.javadsl.ActorTestKit;
import org.apache.pekko.actor.testkit.typed.javadsl.TestProbe;
import org.apache.pekko.actor.typed.ActorRef;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;

/** The coordinator actor: admissions reach the volumes; a silent volume's permit runs out. */
class RebuildCoordinatorTest {

  static final ActorTestKit testKit = ActorTestKit.create("RebuildCoordinatorTest");

  @AfterAll
  static void shutdown() {
    testKit.shutdownTestKit();
  }

  private static PendingRepair repair(String volume, String... nodes) {
    return new PendingRepair(new LegRef(volume, 0), 1, 2, 1,
        java.util.Arrays.stream(nodes).map(n -> new DiskRef(n, n + "-d0")).toList());
  }

  @Test
  void the_second_volume_on_a_busy_disk_is_admitted_when_the_first_finishes_and_not_before() {
    TestProbe<Key> admitted = testKit.createTestProbe();
    AtomicLong now = new AtomicLong(0);
    ActorRef<RebuildCoordinator.Command> coordinator = testKit.spawn(RebuildCoordinator.create(
        HealingSettings.defaults().withRebuildCaps(1, 4), Duration.ofMinutes(10), admitted.getRef()::tell, now::get));

    coordinator.tell(new RebuildCoordinator.Acquire("v1", "l0r1", repair("v1", "n1", "n3")));
    assertEquals(new Key("v1", "l0r1"), admitted.receiveMessage());
    coordinator.tell(new RebuildCoordinator.Acquire("v2", "l0r0", repair("v2", "n1", "n4")));
    TestProbe<RebuildPermits> table = testKit.createTestProbe();
    coordinator.tell(new RebuildCoordinator.Get(table.getRef()));
    assertEquals(List.of(new Key("v2", "l0r0")), List.copyOf(table.receiveMessage().waiting().keySet()));
    admitted.expectNoMessage(Duration.ofMillis(100));

    coordinator.tell(new RebuildCoordinator.Renew("v1", Map.of(), Map.of())); // v1 in sync: holds nothing
    assertEquals(new Key("v2", "l0r0"), admitted.receiveMessage());
  }

  @Test
  void a_permit_held_by_a_volume_that_went_silent_expires_on_the_coordinators_own_timer() {
    TestProbe<Key> admitted = testKit.createTestProbe();
    AtomicLong now = new AtomicLong(0);
    ActorRef<RebuildCoordinator.Command> coordinator = testKit.spawn(RebuildCoordinator.create(
        HealingSettings.defaults().withRebuildCaps(1, 4), Duration.ofMillis(400), admitted.getRef()::tell, now::get));
    coordinator.tell(new RebuildCoordinator.Acquire("gone", "t", repair("gone", "n1", "n2")));
    admitted.receiveMessage();
    coordinator.tell(new RebuildCoordinator.Acquire("next", "t", repair("next", "n1", "n3")));
    TestProbe<RebuildPermits> table = testKit.createTestProbe();
    coordinator.tell(new RebuildCoordinator.Get(table.getRef()));
    assertEquals(1, table.receiveMessage().waiting().size(), "next waits while the lease holds");

    now.set(10_000); // the lease of both has run out: "next" renews its ask, "gone" is silent
    coordinator.tell(new RebuildCoordinator.Renew("next", Map.of(), Map.of("t", repair("next", "n1", "n3"))));
    assertEquals(new Key("next", "t"), admitted.receiveMessage(Duration.ofSeconds(10)));
  }
}
