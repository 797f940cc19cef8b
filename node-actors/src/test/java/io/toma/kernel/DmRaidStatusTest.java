package io.toma.kernel;

import static org.junit.jupiter.api.Assertions.*;

import io.toma.kernel.DmRaidStatus.MemberHealth;
import java.util.List;
import org.junit.jupiter.api.Test;

/** Status lines exactly as kernel-recipes.md recorded them on Debian's 6.1 kernel. */
class DmRaidStatusTest {

  @Test
  void a_raid1_in_initial_resync_shows_both_members_alive_not_in_sync() {
    DmRaidStatus s = DmRaidStatus.parse("0 253952 raid raid1 2 aa 0/253952 resync 0 0 -");
    assertEquals(List.of(MemberHealth.SYNCING, MemberHealth.SYNCING), s.members());
    assertEquals(0, s.syncedSectors());
    assertEquals(253952, s.totalSectors());
    assertEquals("resync", s.syncAction());
    assertFalse(s.fullyInSync());
  }

  @Test
  void a_raid1_in_sync_is_idle_with_every_member_alive() {
    DmRaidStatus s = DmRaidStatus.parse("0 253952 raid raid1 2 AA 253952/253952 idle 0 0 -");
    assertTrue(s.fullyInSync());
    assertEquals("raid1", s.raidType());
  }

  @Test
  void a_dead_member_is_found_by_its_slot() {
    DmRaidStatus s = DmRaidStatus.parse("0 253952 raid raid1 2 DA 253952/253952 idle 0 0 -");
    assertEquals(List.of(0), s.deadSlots());
    assertEquals(MemberHealth.DEAD, s.members().get(0));
  }

  @Test
  void a_replacement_member_recovering_and_a_grow_repairing_are_read() {
    DmRaidStatus recover = DmRaidStatus.parse("0 253952 raid raid1 2 aA 120000/253952 recover 0 0 -");
    assertEquals(MemberHealth.SYNCING, recover.members().get(0));
    assertEquals(120000, recover.syncedSectors());
    DmRaidStatus grow = DmRaidStatus.parse("0 516096 raid raid1 2 AA 253952/516096 repair 0 0 -");
    assertEquals("repair", grow.syncAction());
    assertFalse(grow.fullyInSync());
  }

  @Test
  void other_targets_and_garbage_are_not_raid_status() {
    assertTrue(DmRaidStatus.tryParse("0 262144 linear").isEmpty());
    assertThrows(IllegalArgumentException.class, () -> DmRaidStatus.parse("0 253952 raid raid1 3 AA 1/2 idle"));
    assertThrows(IllegalArgumentException.class, () -> DmRaidStatus.parse("0 253952 raid raid1 2 AA x/2 idle"));
  }
}
