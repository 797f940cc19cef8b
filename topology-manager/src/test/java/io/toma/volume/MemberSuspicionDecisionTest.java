package io.toma.volume;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.toma.kernel.DesiredState;
import io.toma.topology.ReplicaPlacement;
import io.toma.topology.TomaEvent;
import io.toma.topology.VolumeState;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Test;

/**
 * A member the active's raid1 marks failed is a suspect for the grace window (10 s here, the
 * default): re-added (a reload of the leg's raid1 with {@code rebuild <slot>} over its own devices)
 * and resynced if it comes back, rebuilt elsewhere only if still failed after the window.
 */
class MemberSuspicionDecisionTest {

  static DeciderWorld world(String id) {
    return VolumeLinkHealingDecisionTest.disaggregated(id);
  }

  /** The slot-0 member (raid health is written slot by slot: "DA" fails it). */
  static ReplicaPlacement slot0(DeciderWorld w) {
    return w.record.placement().orElseThrow().replicas().stream().filter(m -> m.leg() == 0 && m.replica() == 0)
        .findFirst().orElseThrow();
  }

  /** The leg's raid1 table args the active was last given. */
  static String legTable(DeciderWorld w) {
    List<DesiredState> states = w.appliedStates.get(w.active());
    DesiredState last = states.get(states.size() - 1);
    return last.dmDevices().stream().filter(d -> d.name().equals(VolumeNames.legDm(w.volumeId, 0)))
        .findFirst().orElseThrow().table().get(0).args();
  }

  static boolean published(VolumeDecider.Decision d, String kind, String text) {
    return d.outbound().stream().anyMatch(o -> o instanceof Outbound.Publish p && p.kind().equals(kind)
        && p.message().contains(text));
  }

  @Test
  void a_member_still_failed_when_the_grace_window_has_passed_is_rebuilt_once_and_not_before() {
    DeciderWorld w = world("vol-sus-lost");
    String active = w.active();
    ReplicaPlacement victim = slot0(w);

    VolumeDecider.Decision first = w.feed(new VolumeInput.RaidStatus(active, VolumeNames.legDm(w.volumeId, 0), "DA", 100, 100));
    assertTrue(published(first, TomaEvent.FAULT_DETECTED, "suspect"), "the failed member is a suspect");
    assertEquals(VolumeState.DEGRADED, w.record.visibleState(), "a suspect member leaves the volume degraded");
    for (int s = 0; s < 9; s++) { // the path stays down: every re-add finds the member failed again
      w.advance(Duration.ofSeconds(1));
      w.raid(active, 0, "DA", 100);
    }
    assertEquals(Map.of(), w.record.healing().rebuilds(), "no rebuild within the window");
    assertTrue(w.record.suspects().containsKey(victim.tag()));

    w.advance(Duration.ofMillis(1500)); // past the window, no report needed
    w.raid(active, 0, "DA", 100);
    assertEquals(Set.of(victim.tag()), w.record.healing().rebuilds().keySet(), "exactly one rebuild, of that member");
    assertEquals(Map.of(), w.record.suspects(), "the suspicion ends when the member is declared lost");
  }

  @Test
  void a_member_back_within_the_window_is_re_added_by_a_raid1_reload_and_resynced_without_a_rebuild() {
    DeciderWorld w = world("vol-sus-back");
    String active = w.active();
    ReplicaPlacement victim = slot0(w);
    assertFalse(legTable(w).contains("rebuild"), legTable(w));

    w.raid(active, 0, "DA", 100);
    w.advance(Duration.ofSeconds(3)); // a tick, a retry gap after it was seen failed: the re-add is asked

    assertTrue(legTable(w).contains("rebuild 0"), "the active reloads the leg with rebuild 0: " + legTable(w));
    assertTrue(legTable(w).contains(victim.tag()), "over the member's own devices: " + legTable(w));
    w.raid(active, 0, "aA", 40); // the path is back: the member resyncs
    w.advance(Duration.ofSeconds(15)); // past the window while resyncing: not declared lost
    assertEquals(Map.of(), w.record.healing().rebuilds());

    String dm = VolumeNames.legDm(w.volumeId, 0);
    VolumeDecider.Decision done = w.feed(new VolumeInput.RaidStatus(active, dm, "AA", 100, 100));
    assertTrue(published(done, TomaEvent.REPAIR_STEP, "member " + victim.tag() + " re-added"), "member re-added");
    assertEquals(Map.of(), w.record.suspects());
    assertFalse(legTable(w).contains("rebuild"), "the plain table is back: " + legTable(w));
    assertEquals(Map.of(), w.record.healing().rebuilds(), "no rebuild for a member that came back");
    assertEquals(victim, slot0(w), "the member stays where it was");
    assertEquals(VolumeState.ONLINE, w.record.visibleState(), w.record.reason().orElse(""));
  }

  @Test
  void a_manager_restart_in_the_middle_keeps_the_suspicion_and_its_window() {
    DeciderWorld w = world("vol-sus-restart");
    String active = w.active();
    ReplicaPlacement victim = slot0(w);
    w.raid(active, 0, "DA", 100);
    long since = w.record.suspects().get(victim.tag()).sinceMillis();
    w.advance(Duration.ofSeconds(6));

    w.restart(); // the entity recovers from its journal
    w.feed(new VolumeInput.Recovered());
    assertEquals(since, w.record.suspects().get(victim.tag()).sinceMillis(), "the window does not restart");
    assertEquals(Map.of(), w.record.healing().rebuilds());

    w.advance(Duration.ofSeconds(5)); // 11 s since first seen failed, no report since the restart
    assertEquals(Set.of(victim.tag()), w.record.healing().rebuilds().keySet(), "lost after the original window");
  }

  @Test
  void a_leg_whose_members_are_all_failed_gives_up_neither_copy() {
    DeciderWorld w = world("vol-sus-both");
    String active = w.active();
    w.raid(active, 0, "DD", 100);
    w.advance(Duration.ofSeconds(20));
    w.raid(active, 0, "DD", 100);
    assertEquals(Map.of(), w.record.suspects(), "no healthy peer: nothing is suspected on a raid report alone");
    assertEquals(Map.of(), w.record.healing().rebuilds());
  }
}
