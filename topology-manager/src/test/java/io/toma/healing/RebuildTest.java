package io.toma.healing;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.toma.healing.Rebuild.Action;
import io.toma.healing.Rebuild.AttachApplied;
import io.toma.healing.Rebuild.AttachReplacement;
import io.toma.healing.Rebuild.Begin;
import io.toma.healing.Rebuild.Event;
import io.toma.healing.Rebuild.ExtentReleaseConfirmed;
import io.toma.healing.Rebuild.Granted;
import io.toma.healing.Rebuild.Input;
import io.toma.healing.Rebuild.OldMemberRemoved;
import io.toma.healing.Rebuild.ReleaseExtent;
import io.toma.healing.Rebuild.RequestReplacement;
import io.toma.healing.Rebuild.Result;
import io.toma.healing.Rebuild.Stage;
import io.toma.healing.Rebuild.State;
import io.toma.healing.Rebuild.SyncComplete;
import io.toma.healing.Rebuild.SyncProgress;
import io.toma.healing.Refs.ExtentRef;
import io.toma.healing.Refs.LegRef;
import io.toma.healing.Refs.MemberRef;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

class RebuildTest {

  static final ExtentRef OLD = new ExtentRef("disk-node-2", "nvme1", "x-17");
  static final ExtentRef NEW = new ExtentRef("disk-node-5", "nvme0", "x-3");
  static final MemberRef LOST = new MemberRef(new LegRef("v1", 0), 1, OLD);

  static final class Member {
    final List<Event> journal = new ArrayList<>();
    final List<Action> sent = new ArrayList<>();
    SafetyOverrides overrides = SafetyOverrides.SAFE;
    State state;

    Member() {
      record(Rebuild.start(LOST, "disk nvme1 on disk-node-2 lost", 1_000));
    }

    Member on(Input input) {
      record(Rebuild.decide(state, input, overrides));
      return this;
    }

    Member restart() {
      State replayed = State.of((Rebuild.MemberLost) journal.get(0));
      for (Event e : journal.subList(1, journal.size())) {
        replayed = replayed.apply(e);
      }
      assertEquals(state, replayed);
      state = replayed;
      record(Rebuild.resume(state, overrides));
      return this;
    }

    private void record(Result r) {
      journal.addAll(r.events());
      sent.addAll(r.actions());
      state = r.state();
    }

    List<ReleaseExtent> releasesOf(ExtentRef extent) {
      return sent.stream().filter(ReleaseExtent.class::isInstance).map(ReleaseExtent.class::cast)
          .filter(r -> r.extent().equals(extent)).toList();
    }
  }

  @Test
  void theOldExtentIsReleasedOnlyAfterTheNewMemberIsInSync() {
    Member m = new Member();
    assertTrue(m.state.pending());
    m.on(new Begin());
    assertEquals(List.of(new RequestReplacement(LOST)), m.sent);
    assertTrue(m.state.inFlight(), "counts against the caps from the moment it starts");

    m.on(new Granted(NEW));
    assertEquals(new AttachReplacement(LOST, 1, NEW), m.sent.get(1));
    m.on(new AttachApplied(1)).on(new OldMemberRemoved()).on(new SyncProgress(30))
        .on(new SyncProgress(60)).on(new SyncProgress(99));
    assertEquals(Stage.SYNCING, m.state.stage());
    assertEquals(99, m.state.syncPercent());
    assertTrue(m.releasesOf(OLD).isEmpty(), "not in sync yet: the old extent stays ours");

    m.on(new SyncComplete());
    assertEquals(1, m.releasesOf(OLD).size());
    assertTrue(!m.state.inFlight(), "in sync: no longer loads the disks");
    m.on(new ExtentReleaseConfirmed(OLD));

    assertEquals(Stage.DONE, m.state.stage());
    assertEquals(List.of("MemberLost", "ReplacementRequested", "ReplacementGranted", "Attached",
            "OldMemberDetached", "Syncing", "Syncing", "Syncing", "InSync", "OldExtentReleased",
            "Done"),
        m.journal.stream().map(e -> e.getClass().getSimpleName()).toList());
  }

  @Test
  void aMemberInSyncButStillInTheControllersKernelKeepsItsOldExtent() {
    Member m = new Member().on(new Begin()).on(new Granted(NEW)).on(new AttachApplied(1))
        .on(new SyncComplete());
    assertTrue(m.releasesOf(OLD).isEmpty());
    assertThrows(IllegalStateException.class,
        () -> m.state.apply(new Rebuild.OldExtentReleased(OLD, false)));

    m.on(new ExtentReleaseConfirmed(OLD));
    assertEquals(Stage.IN_SYNC, m.state.stage(), "an unrequested release confirmation is ignored");

    m.on(new OldMemberRemoved());
    assertEquals(1, m.releasesOf(OLD).size());
  }

  @Test
  void aRefusedReplacementWaitsAsPendingWithTheReason() {
    Member m = new Member().on(new Begin()).on(new Rebuild.Refused("no free disk in another rack"));

    assertTrue(m.state.pending());
    assertEquals("no free disk in another rack", m.state.lastRefusal().orElseThrow());
    m.on(new Begin());
    assertEquals(2, m.state.attempts());
    assertEquals(Stage.REPLACEMENT_REQUESTED, m.state.stage());
  }

  @Test
  void aReplacementLostDuringResyncIsReleasedAndTheRepairIsPendingAgain() {
    Member m = new Member().on(new Begin()).on(new Granted(NEW)).on(new AttachApplied(1))
        .on(new SyncProgress(40)).on(new Rebuild.ReplacementLost("disk-node-5 lost"));

    assertTrue(m.state.pending());
    assertEquals(1, m.releasesOf(NEW).size());
    assertTrue(m.releasesOf(OLD).isEmpty());
  }

  @Test
  void aLateGrantAfterARefusalIsGivenBackSoNoExtentLeaks() {
    Member m = new Member().on(new Begin()).on(new Rebuild.Refused("timeout"))
        .on(new Granted(NEW));

    assertEquals(1, m.releasesOf(NEW).size());
    assertTrue(m.state.pending());
  }

  @Test
  void aRebuildReplayedAfterAManagerRestartResumesAtItsStage() {
    Member m = new Member().on(new Begin()).on(new Granted(NEW));
    m.sent.clear();

    m.restart();
    assertEquals(List.of(new AttachReplacement(LOST, 1, NEW)), m.sent, "the attach is re-sent");

    m.on(new AttachApplied(1)).on(new OldMemberRemoved()).on(new SyncComplete());
    m.sent.clear();
    m.restart();
    assertEquals(1, m.releasesOf(OLD).size(), "the release is re-asked after a restart");
    m.on(new ExtentReleaseConfirmed(OLD));
    assertEquals(Stage.DONE, m.state.stage());
    assertEquals(1, m.journal.stream().filter(Rebuild.OldExtentReleased.class::isInstance).count());
  }

  @Test
  void theUnsafeOverrideReleasesAtAttachSoTheCheckerCanBite() {
    Member m = new Member();
    m.overrides = new SafetyOverrides(true, false);
    m.on(new Begin()).on(new Granted(NEW)).on(new AttachApplied(1));

    assertEquals(1, m.releasesOf(OLD).size());
    m.on(new ExtentReleaseConfirmed(OLD)).on(new SyncComplete());
    assertEquals(Stage.DONE, m.state.stage());
    assertTrue(m.journal.stream().filter(Rebuild.OldExtentReleased.class::isInstance)
        .map(Rebuild.OldExtentReleased.class::cast).allMatch(Rebuild.OldExtentReleased::beforeInSync));
  }
}
