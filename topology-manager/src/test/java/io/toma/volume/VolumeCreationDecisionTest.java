package io.toma.volume;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.toma.topology.FailureDomainLevel;
import io.toma.topology.Layout;
import io.toma.topology.ReplicaPlacement;
import io.toma.topology.VolumeSpec;
import io.toma.topology.VolumeState;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeSet;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;

/**
 * What a create writes and how it survives a manager restart, through {@link VolumeDecider} in a
 * single-threaded world ({@link DeciderWorld}).
 */
class VolumeCreationDecisionTest {

  static final long GIB = 1L << 30;

  static VolumeSpec spec(String id) {
    return new VolumeSpec(id, 8 * GIB, Layout.of(1, 2, 1, FailureDomainLevel.RACK));
  }

  @Test
  void a_create_writes_its_start_with_the_candidates_then_its_placement_then_one_row_once_every_node_applied() {
    DeciderWorld w = new DeciderWorld("vol-rows").withRacks(3, 2);
    w.feed(new VolumeInput.Create(spec("vol-rows")));

    assertEquals(VolumeState.ONLINE, w.record.visibleState(), w.record.reason().orElse(""));
    assertEquals(3, w.journal.size(), "journal: " + w.journal);
    VolumeRecord.CreationStarted started = assertInstanceOf(VolumeRecord.CreationStarted.class, w.journal.get(0));
    assertEquals(4, started.candidates().orElseThrow().expected(), "2 members and 2 controllers asked at once");
    assertInstanceOf(VolumeRecord.VolumePlaced.class, w.journal.get(1));
    assertEquals(new VolumeRecord.NodesInSync(1), w.journal.get(2));
    assertEquals(w.record.desiredStates().keySet(), w.record.desiredRevisions().keySet(),
        "every node with a desired state got the first revision, and no other");
    assertEquals(w.record, w.replayed(), "the journal replays to the same Online volume");
  }

  @Test
  void a_manager_restart_in_the_middle_of_placement_places_the_volume_anew_and_releases_what_it_was_granted() {
    DeciderWorld w = new DeciderWorld("vol-crash").withRacks(3, 2);
    w.holdGrants = true;
    w.feed(new VolumeInput.Create(spec("vol-crash")));
    assertEquals(4, w.grantsAsked.size(), "every candidate was asked (and granted) before the restart");
    Set<String> firstDisks = w.grantsAsked.stream().filter(o -> o instanceof Outbound.RequestExtent)
        .map(o -> ((Outbound.RequestExtent) o).disk().diskId()).collect(Collectors.toCollection(TreeSet::new));

    // the manager restarts before any answer came back: the answers are gone, the candidates are not
    w.restart();
    assertEquals(firstDisks, w.record.touchedDisks(), "the first write recorded every disk asked");
    w.holdGrants = false;
    w.feed(new VolumeInput.Recovered());

    assertEquals(VolumeRecord.Phase.PLACED, w.record.phase());
    assertEquals(VolumeState.ONLINE, w.record.visibleState(), w.record.reason().orElse(""));
    Map<String, Set<String>> kept = new java.util.TreeMap<>();
    for (ReplicaPlacement m : w.record.placement().orElseThrow().replicas()) {
      kept.computeIfAbsent(m.diskId(), d -> new TreeSet<>()).add(m.tag());
    }
    for (String disk : firstDisks) {
      List<Outbound.ReleaseExtents> released = w.releases.stream().filter(r -> r.diskId().equals(disk)).toList();
      assertEquals(1, released.size(), "every disk the interrupted attempt asked is told what to keep: " + disk);
      assertEquals(kept.getOrDefault(disk, Set.of()), released.get(0).keepTags(), disk);
    }
    assertEquals(w.record, w.replayed(), "the journal replays to the same Online volume");
  }

  @Test
  void a_journal_written_before_the_create_and_its_acknowledgements_were_folded_still_replays() {
    DeciderWorld w = new DeciderWorld("vol-old").withRacks(3, 2);
    w.feed(new VolumeInput.Create(spec("vol-old")));
    VolumeRecord.CreationStarted started = (VolumeRecord.CreationStarted) w.journal.get(0);
    VolumeRecord.VolumePlaced placed = (VolumeRecord.VolumePlaced) w.journal.get(1);

    // the same create as the old code wrote it: one row per answer and per acknowledgement
    List<VolumeRecord.Event> old = new ArrayList<>();
    old.add(new VolumeRecord.CreationStarted(started.spec(), started.namespaceUuid()));
    old.add(started.candidates().orElseThrow());
    placed.placement().replicas().forEach(m -> old.add(new VolumeRecord.MemberGranted(1, m)));
    placed.placement().controllers().forEach(c -> old.add(new VolumeRecord.ControllerGranted(1, c)));
    old.add(placed);
    w.record.desiredRevisions().forEach((node, rev) -> old.add(new VolumeRecord.NodeApplied(node, rev)));

    VolumeRecord replayed = VolumeRecord.absent();
    for (VolumeRecord.Event e : old) {
      replayed = replayed.apply(e);
    }
    assertEquals(w.record, replayed);
    assertTrue(VolumeDecider.decide("vol-old", replayed, new VolumeInput.Recovered(), w.context()).outbound().stream()
        .noneMatch(o -> o instanceof Outbound.ApplyToNode), "in sync: nothing is sent again");
    assertEquals(Optional.empty(), replayed.placing());
  }
}
