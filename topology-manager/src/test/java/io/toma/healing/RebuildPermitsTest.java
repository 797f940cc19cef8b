package io.toma.healing;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.toma.healing.RebuildPermits.Key;
import io.toma.healing.Refs.DiskRef;
import io.toma.healing.Refs.LegRef;
import io.toma.healing.RepairScheduler.PendingRepair;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.Test;

/** The cluster-wide rebuild admission as a pure table: caps across volumes, urgency, leases. */
class RebuildPermitsTest {

  private static final long LEASE = 10_000;
  private static final RebuildPermits.Caps ONE_PER_DISK = new RebuildPermits.Caps(1, 4);

  private static DiskRef disk(String node) {
    return new DiskRef(node, node + "-d0");
  }

  private static PendingRepair repair(String volume, int inSync, DiskRef... touches) {
    return new PendingRepair(new LegRef(volume, 0), 1, 3, inSync, List.of(touches));
  }

  @Test
  void two_volumes_copying_from_one_disk_are_admitted_one_after_the_other_with_a_cap_of_one() {
    RebuildPermits.Step a = RebuildPermits.empty(ONE_PER_DISK)
        .request(new Key("v1", "t1"), repair("v1", 2, disk("n1"), disk("n4")), 0, LEASE);
    RebuildPermits.Step b = a.permits().request(new Key("v2", "t1"), repair("v2", 2, disk("n1"), disk("n5")), 0, LEASE);

    assertEquals(List.of(new Key("v1", "t1")), a.admitted());
    assertEquals(List.of(), b.admitted(), "v2 waits: n1-d0 already carries v1's rebuild");
    RebuildPermits.Step done = b.permits().release(new Key("v1", "t1"), 1);
    assertEquals(List.of(new Key("v2", "t1")), done.admitted(), "v1 finished: v2 starts");
    assertEquals(1, done.permits().load().onDisk(disk("n1")));
  }

  @Test
  void the_node_cap_holds_across_volumes_on_different_disks_of_one_node() {
    RebuildPermits p = RebuildPermits.empty(new RebuildPermits.Caps(5, 2));
    List<Key> admitted = new java.util.ArrayList<>();
    for (int i = 0; i < 4; i++) {
      RebuildPermits.Step s = p.request(new Key("v" + i, "t"), repair("v" + i, 2,
          new DiskRef("n1", "d" + i), new DiskRef("n" + (10 + i), "d0")), 0, LEASE);
      admitted.addAll(s.admitted());
      p = s.permits();
    }
    assertEquals(2, admitted.size(), "two rebuilds may touch node n1 at once: " + admitted);
    assertEquals(2, p.load().onNode("n1"));
  }

  @Test
  void waiting_rebuilds_start_least_redundancy_first_whatever_order_they_asked_in() {
    DiskRef busy = disk("n1");
    List<Map.Entry<Key, PendingRepair>> asks = new java.util.ArrayList<>(List.of(
        Map.entry(new Key("a-one-spare", "t"), repair("a-one-spare", 2, busy, disk("n2"))),
        Map.entry(new Key("z-no-spare", "t"), repair("z-no-spare", 1, busy, disk("n3"))),
        Map.entry(new Key("m-one-spare", "t"), repair("m-one-spare", 2, busy, disk("n4")))));
    for (int seed = 0; seed < 5; seed++) {
      java.util.Collections.shuffle(asks, new Random(seed));
      RebuildPermits p = RebuildPermits.empty(ONE_PER_DISK)
          .request(new Key("holder", "t"), repair("holder", 2, busy, disk("n9")), 0, LEASE).permits();
      for (Map.Entry<Key, PendingRepair> e : asks) {
        p = p.request(e.getKey(), e.getValue(), 0, LEASE).permits();
      }
      List<Key> order = new java.util.ArrayList<>();
      Key holding = new Key("holder", "t");
      for (int round = 0; round < 3; round++) {
        RebuildPermits.Step s = p.release(holding, 1);
        assertEquals(1, s.admitted().size());
        holding = s.admitted().get(0);
        order.add(holding);
        p = s.permits();
      }
      assertEquals(List.of(new Key("z-no-spare", "t"), new Key("a-one-spare", "t"), new Key("m-one-spare", "t")),
          order, "no spare copy first, then by volume id");
    }
  }

  @Test
  void a_less_urgent_rebuild_on_idle_disks_does_not_jump_a_more_urgent_one_waiting_for_a_shared_disk() {
    RebuildPermits p = RebuildPermits.empty(ONE_PER_DISK)
        .request(new Key("holder", "t"), repair("holder", 2, disk("n1"), disk("n9")), 0, LEASE).permits();
    p = p.request(new Key("urgent", "t"), repair("urgent", 1, disk("n1"), disk("n2")), 0, LEASE).permits();
    RebuildPermits.Step late = p.request(new Key("late", "t"), repair("late", 2, disk("n2"), disk("n3")), 0, LEASE);
    assertEquals(List.of(), late.admitted(), "n2 is promised to the urgent rebuild");
  }

  @Test
  void a_permit_its_volume_stops_renewing_expires_and_frees_the_disk() {
    RebuildPermits p = RebuildPermits.empty(ONE_PER_DISK)
        .request(new Key("deleted", "t"), repair("deleted", 2, disk("n1"), disk("n2")), 0, LEASE).permits();
    p = p.request(new Key("next", "t"), repair("next", 2, disk("n1"), disk("n3")), 0, LEASE).permits();
    p = p.renew("next", Map.of(), Map.of("t", repair("next", 2, disk("n1"), disk("n3"))), 6_000, LEASE).permits();

    RebuildPermits.Step before = p.expire(LEASE - 1);
    assertEquals(List.of(), before.admitted(), "the lease still holds");
    RebuildPermits.Step after = before.permits().expire(LEASE);
    assertEquals(List.of(new Key("next", "t")), after.admitted(), "the forgotten permit expired; the renewed ask did not");
  }

  @Test
  void after_a_manager_restart_a_copying_rebuild_counts_again_at_its_first_renewal() {
    RebuildPermits fresh = RebuildPermits.empty(ONE_PER_DISK);
    RebuildPermits.Step renewed = fresh.renew("v1", Map.of("t", repair("v1", 2, disk("n1"), disk("n2"))), Map.of(),
        0, LEASE);
    assertEquals(1, renewed.permits().load().onDisk(disk("n1")));
    RebuildPermits.Step other = renewed.permits().request(new Key("v2", "t"), repair("v2", 2, disk("n1")), 0, LEASE);
    assertEquals(List.of(), other.admitted(), "the resumed rebuild holds the disk's only slot");
  }

  @Test
  void an_admitted_rebuild_asking_again_for_a_new_target_waits_if_that_disk_is_busy() {
    RebuildPermits p = RebuildPermits.empty(ONE_PER_DISK)
        .request(new Key("v1", "t"), repair("v1", 2, disk("n1"), disk("n2")), 0, LEASE).permits()
        .request(new Key("v2", "t"), repair("v2", 2, disk("n3"), disk("n4")), 0, LEASE).permits();

    RebuildPermits.Step again = p.request(new Key("v1", "t"), repair("v1", 2, disk("n1"), disk("n2")), 1, LEASE);
    assertEquals(List.of(new Key("v1", "t")), again.admitted(), "same disks: a lost answer, admitted again");

    RebuildPermits.Step moved = again.permits().request(new Key("v1", "t"),
        repair("v1", 2, disk("n1"), disk("n4")), 2, LEASE);
    assertEquals(List.of(), moved.admitted(), "its new target n4 already carries v2's rebuild");
    assertEquals(1, moved.permits().load().onDisk(disk("n4")), "n4 keeps one rebuild, not two");
    assertEquals(0, moved.permits().load().onDisk(disk("n2")), "the refused target is no longer counted");

    RebuildPermits.Step renewed = moved.permits().renew("v1", Map.of(),
        Map.of("t", repair("v1", 2, disk("n1"), disk("n4"))), 3, LEASE);
    assertEquals(List.of(), renewed.admitted(), "still waiting at its renewal");
    assertEquals(List.of(new Key("v1", "t")), renewed.permits().release(new Key("v2", "t"), 4).admitted(),
        "v2 done: v1 starts on its new target");
  }

  @Test
  void a_renewal_that_names_other_disks_for_an_admitted_ask_queues_it_again() {
    RebuildPermits p = RebuildPermits.empty(ONE_PER_DISK)
        .request(new Key("v1", "t"), repair("v1", 2, disk("n1"), disk("n2")), 0, LEASE).permits()
        .request(new Key("v2", "t"), repair("v2", 2, disk("n3"), disk("n4")), 0, LEASE).permits();
    RebuildPermits.Step s = p.renew("v1", Map.of(), Map.of("t", repair("v1", 2, disk("n1"), disk("n3"))), 1, LEASE);
    assertTrue(s.permits().waiting().containsKey(new Key("v1", "t")), "n3 is busy: v1 waits");
    assertEquals(1, s.permits().load().onDisk(disk("n3")));
  }

  @Test
  void a_renewal_releases_what_the_volume_no_longer_lists() {
    RebuildPermits p = RebuildPermits.empty(ONE_PER_DISK)
        .request(new Key("v1", "t"), repair("v1", 2, disk("n1"), disk("n2")), 0, LEASE).permits();
    RebuildPermits.Step s = p.renew("v1", Map.of(), Map.of(), 1, LEASE);
    assertTrue(s.permits().granted().isEmpty(), "in sync: nothing held any more");
  }

  @Test
  void across_many_random_asks_and_releases_no_disk_ever_exceeds_its_cap() {
    Random random = new Random(7);
    RebuildPermits p = RebuildPermits.empty(new RebuildPermits.Caps(2, 3));
    for (int step = 0; step < 500; step++) {
      if (random.nextInt(3) > 0) {
        String v = "v" + random.nextInt(40);
        p = p.request(new Key(v, "t"), repair(v, 1 + random.nextInt(2), disk("n" + random.nextInt(6)),
            disk("n" + random.nextInt(6))), step, LEASE).permits();
      } else if (!p.granted().isEmpty()) {
        List<Key> held = List.copyOf(p.granted().keySet());
        p = p.release(held.get(random.nextInt(held.size())), step).permits();
      }
      RepairScheduler.Load load = p.load();
      load.perDisk().values().forEach(n -> assertTrue(n <= 2, "disk cap exceeded: " + load));
      load.perNode().values().forEach(n -> assertTrue(n <= 3, "node cap exceeded: " + load));
    }
  }
}
