package io.toma.volume;

import static io.toma.volume.VolumeHealingDecisionTest.onlineVolume;
import static org.junit.jupiter.api.Assertions.assertEquals;

import io.toma.topology.ReplicaPlacement;
import io.toma.topology.VolumeView;
import io.toma.topology.VolumeView.ReplicaView;
import org.junit.jupiter.api.Test;

/** What the volume view shows per member while a leg resyncs. */
class VolumeViewsTest {

  static ReplicaView slot(VolumeView v, int leg, int slot) {
    return v.legs().get(leg).replicas().get(slot);
  }

  @Test
  void while_a_replacement_resyncs_only_the_replacement_shows_syncing_and_the_surviving_copy_stays_online() {
    DeciderWorld w = onlineVolume("vol-view", 1, 2);
    String active = w.active();
    ReplicaPlacement lost = w.record.placement().orElseThrow().replicas().stream()
        .filter(m -> !m.nodeId().equals(active)).findFirst().orElseThrow();
    int survivorSlot = 1 - lost.replica();
    w.feed(new VolumeInput.MemberLost(lost.diskId(), "I/O errors"));

    // dm-raid may report every member of a resyncing leg as 'a': the survivor is still the source
    w.raid(active, 0, "aa", 42);
    VolumeView v = VolumeViews.of(w.volumeId, w.record, w.raid);

    assertEquals("Syncing", slot(v, 0, lost.replica()).state(), "the replacement resyncs");
    assertEquals(42, slot(v, 0, lost.replica()).syncPercent());
    assertEquals("Online", slot(v, 0, survivorSlot).state(), "the surviving copy is in sync");
    assertEquals(100, slot(v, 0, survivorSlot).syncPercent());

    w.raid(active, 0, lost.replica() == 0 ? "aA" : "Aa", 60);
    VolumeView later = VolumeViews.of(w.volumeId, w.record, w.raid);
    assertEquals("Syncing", slot(later, 0, lost.replica()).state());
    assertEquals(60, slot(later, 0, lost.replica()).syncPercent());
    assertEquals("Online", slot(later, 0, survivorSlot).state());
  }

  @Test
  void a_leg_resyncing_with_no_repair_under_way_shows_what_the_raid_reports() {
    DeciderWorld w = onlineVolume("vol-view-init", 1, 2);
    w.raid(w.active(), 0, "Aa", 50);
    VolumeView v = VolumeViews.of(w.volumeId, w.record, w.raid);
    assertEquals("Online", slot(v, 0, 0).state());
    assertEquals("Syncing", slot(v, 0, 1).state(), "a member the raid says is behind, with no rebuild recorded");
    assertEquals(50, slot(v, 0, 1).syncPercent());
  }
}
