package io.toma.healing;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.toma.healing.Failover.Action;
import io.toma.healing.Failover.Event;
import io.toma.healing.Failover.FenceAck;
import io.toma.healing.Failover.FenceOldController;
import io.toma.healing.Failover.Input;
import io.toma.healing.Failover.NodeUnreachable;
import io.toma.healing.Failover.PromoteStandby;
import io.toma.healing.Failover.PromotionAck;
import io.toma.healing.Failover.Result;
import io.toma.healing.Failover.Stage;
import io.toma.healing.Failover.Start;
import io.toma.healing.Failover.State;
import io.toma.healing.Failover.Tick;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.Set;
import org.junit.jupiter.api.Test;

class FailoverTest {

  private static final HealingSettings SETTINGS = HealingSettings.defaults();
  private static final long FENCE_TIMEOUT = SETTINGS.fenceConfirmTimeout().toMillis();

  /** A VirtualDisk in miniature: persists every event in a journal and keeps the actions sent. */
  static final class Volume {
    final List<Event> journal = new ArrayList<>();
    final List<Action> sent = new ArrayList<>();
    State state;
    SafetyOverrides overrides = SafetyOverrides.SAFE;

    Volume start(Start start, long now) {
      record(Failover.start(start, now, SETTINGS, overrides));
      return this;
    }

    Volume on(Input input, long now) {
      record(Failover.decide(state, input, now, SETTINGS, overrides));
      return this;
    }

    private void record(Result result) {
      journal.addAll(result.events());
      sent.addAll(result.actions());
      state = result.state();
    }

    /** The manager restarts: state rebuilt from the journal alone, then resumed. */
    Volume restart(long now) {
      State replayed = replay(journal);
      assertEquals(state, replayed, "replay rebuilds the very state the live entity had");
      state = replayed;
      record(Failover.resume(state, now, SETTINGS, overrides));
      return this;
    }

    <T> List<T> sentOf(Class<T> type) {
      return sent.stream().filter(type::isInstance).map(type::cast).toList();
    }

    <T> List<T> journalOf(Class<T> type) {
      return journal.stream().filter(type::isInstance).map(type::cast).toList();
    }
  }

  static State replay(List<Event> journal) {
    State s = State.of((Failover.Detected) journal.get(0));
    for (Event e : journal.subList(1, journal.size())) {
      s = s.apply(e);
    }
    return s;
  }

  private static Start controllerLost(List<String> standbys) {
    return new Start("v1", "ctl-a", 7, standbys, Set.of("disk-1", "disk-2", "disk-3"),
        "node ctl-a lost");
  }

  @Test
  void standbyIsPromotedOnlyAfterEveryDiskNodeFencedTheOldController() {
    Volume v = new Volume().start(controllerLost(List.of("ctl-b")), 0);

    assertEquals(8, v.state.epoch(), "epoch bumped first");
    assertEquals(List.of("disk-1", "disk-2", "disk-3"),
        v.sentOf(FenceOldController.class).stream().map(FenceOldController::diskNode).toList());
    assertTrue(v.sentOf(FenceOldController.class).stream()
        .allMatch(f -> f.epoch() == 8 && f.revokedController().equals("ctl-a")));

    v.on(new FenceAck("disk-1", 8), 100).on(new FenceAck("disk-3", 8), 150);
    assertTrue(v.sentOf(PromoteStandby.class).isEmpty(), "disk-2 has not confirmed yet");
    assertEquals(Stage.FENCING_REQUESTED, v.state.stage());

    v.on(new FenceAck("disk-2", 8), 200);

    assertEquals(List.of(new PromoteStandby("ctl-b", 8, Set.of())),
        v.sentOf(PromoteStandby.class));
    int promotion = indexOf(v.journal, Failover.PromotionRequested.class);
    long confirmationsBefore = v.journal.subList(0, promotion).stream()
        .filter(Failover.FenceConfirmed.class::isInstance).count();
    assertEquals(3, confirmationsBefore, "every confirmation is journaled before the promotion");
  }

  @Test
  void aFenceConfirmationForAnOlderEpochIsIgnored() {
    Volume v = new Volume().start(controllerLost(List.of("ctl-b")), 0);
    v.on(new FenceAck("disk-1", 7), 10).on(new FenceAck("disk-2", 7), 10)
        .on(new FenceAck("disk-3", 7), 10);

    assertEquals(Set.of("disk-1", "disk-2", "disk-3"), v.state.fencePending());
    assertTrue(v.sentOf(PromoteStandby.class).isEmpty());
  }

  @Test
  void aDiskNodeThatCannotConfirmTheFenceHasItsSlicesTreatedAsLost() {
    Volume v = new Volume().start(controllerLost(List.of("ctl-b")), 0);
    v.on(new FenceAck("disk-1", 8), 100).on(new FenceAck("disk-2", 8), 100)
        .on(new Tick(), FENCE_TIMEOUT - 1);
    assertTrue(v.sentOf(PromoteStandby.class).isEmpty(), "still within the fence timeout");

    v.on(new Tick(), FENCE_TIMEOUT);

    assertEquals(List.of("disk-3"), v.sentOf(Failover.TreatSlicesAsLost.class).stream()
        .map(Failover.TreatSlicesAsLost::diskNode).toList());
    assertEquals(List.of(new PromoteStandby("ctl-b", 8, Set.of("disk-3"))),
        v.sentOf(PromoteStandby.class), "the new stack leaves out the unconfirmed node's slices");
  }

  @Test
  void anUnreachableDiskNodeIsGivenUpAtOnce() {
    Volume v = new Volume().start(controllerLost(List.of("ctl-b")), 0);
    v.on(new FenceAck("disk-1", 8), 100).on(new FenceAck("disk-2", 8), 100)
        .on(new NodeUnreachable("disk-3"), 200);

    assertEquals(Set.of("disk-3"), v.state.fenceAbandoned());
    assertEquals(Stage.PROMOTION_REQUESTED, v.state.stage());
  }

  @Test
  void replayedFailoverAfterAManagerRestartDoesNotPromoteTwice() {
    Volume v = new Volume().start(controllerLost(List.of("ctl-b", "ctl-c")), 0);
    v.on(new FenceAck("disk-1", 8), 100).on(new FenceAck("disk-2", 8), 100)
        .on(new FenceAck("disk-3", 8), 100);
    assertEquals(Stage.PROMOTION_REQUESTED, v.state.stage());

    v.restart(5_000).restart(6_000);
    v.on(new FenceAck("disk-1", 8), 6_100).on(new Tick(), 60_000);

    assertEquals(1, v.journalOf(Failover.PromotionRequested.class).size());
    assertEquals(Set.of("ctl-b"),
        Set.copyOf(v.sentOf(PromoteStandby.class).stream().map(PromoteStandby::standby).toList()),
        "the restart re-sends the same promotion, of the same standby at the same epoch");
    assertTrue(v.sentOf(PromoteStandby.class).stream().allMatch(p -> p.epoch() == 8));

    v.on(new PromotionAck("ctl-b", 8), 61_000).restart(62_000)
        .on(new Failover.StandbyPlaced("ctl-c"), 63_000);
    assertEquals(Stage.DONE, v.state.stage());
    assertEquals(1, v.journalOf(Failover.Promoted.class).size());
  }

  @Test
  void aRestartDuringTheFenceResendsItAndStillWaitsForEveryConfirmation() {
    Volume v = new Volume().start(controllerLost(List.of("ctl-b")), 0);
    v.on(new FenceAck("disk-1", 8), 100);
    v.sent.clear();

    v.restart(20_000);

    assertEquals(List.of("disk-2", "disk-3"),
        v.sentOf(FenceOldController.class).stream().map(FenceOldController::diskNode).toList());
    v.on(new Tick(), 20_000 + FENCE_TIMEOUT - 1);
    assertEquals(Stage.FENCING_REQUESTED, v.state.stage(), "the deadline moved with the restart");
    v.on(new FenceAck("disk-2", 8), 21_000).on(new FenceAck("disk-3", 8), 21_000);
    assertEquals(Stage.PROMOTION_REQUESTED, v.state.stage());
  }

  @Test
  void aSecondPromotionIsRefusedEvenFromABrokenJournal() {
    Volume v = new Volume().start(controllerLost(List.of("ctl-b", "ctl-c")), 0);
    v.on(new NodeUnreachable("disk-1"), 1).on(new NodeUnreachable("disk-2"), 1)
        .on(new NodeUnreachable("disk-3"), 1);

    assertThrows(IllegalStateException.class,
        () -> v.state.apply(new Failover.PromotionRequested("ctl-c", 8, Set.of(), false)));
  }

  @Test
  void withNoStandbyTheVolumeGoesUnavailableInsteadOfPromotingAnything() {
    Volume v = new Volume().start(controllerLost(List.of()), 0);
    v.on(new FenceAck("disk-1", 8), 1).on(new FenceAck("disk-2", 8), 1)
        .on(new FenceAck("disk-3", 8), 1);

    assertEquals(Stage.UNAVAILABLE, v.state.stage());
    assertTrue(v.sentOf(PromoteStandby.class).isEmpty());
    assertEquals(1, v.sentOf(Failover.ReportUnavailable.class).size());
    assertTrue(v.state.outcome().orElseThrow().contains("no standby"));
  }

  @Test
  void aStandbyLostDuringTheFenceIsSkippedForTheNextOne() {
    Volume v = new Volume().start(controllerLost(List.of("ctl-b", "ctl-c")), 0);
    v.on(new NodeUnreachable("ctl-b"), 10);
    for (String d : List.of("disk-1", "disk-2", "disk-3")) {
      v.on(new FenceAck(d, 8), 20);
    }

    assertEquals(List.of(new PromoteStandby("ctl-c", 8, Set.of())), v.sentOf(PromoteStandby.class));
  }

  @Test
  void afterPromotionANewStandbyIsPlacedAwayFromTheOldAndTheNewActive() {
    Volume v = new Volume().start(controllerLost(List.of("ctl-b")), 0);
    for (String d : List.of("disk-1", "disk-2", "disk-3")) {
      v.on(new FenceAck(d, 8), 20);
    }
    v.on(new PromotionAck("ctl-b", 7), 30);
    assertEquals(Stage.PROMOTION_REQUESTED, v.state.stage(), "an ack of another epoch is not it");

    v.on(new PromotionAck("ctl-b", 8), 40);

    assertEquals(List.of(new Failover.PlaceNewStandby(Set.of("ctl-a", "ctl-b"))),
        v.sentOf(Failover.PlaceNewStandby.class));
    v.on(new Failover.NoStandbyPlaced("no controller node left in another rack"), 50);
    assertEquals(Stage.DONE, v.state.stage());
    assertTrue(v.state.newStandby().isEmpty());
  }

  @Test
  void aConvergedNodesOwnSlicesAreTreatedAsLostWithoutWaiting() {
    Start start = new Start("v1", "node-1", 1, List.of("node-2"),
        Set.of("node-1", "node-2", "node-3"), "node node-1 lost");
    Volume v = new Volume().start(start, 0);

    assertEquals(Set.of("node-1"), v.state.fenceAbandoned());
    v.on(new FenceAck("node-2", 2), 1).on(new FenceAck("node-3", 2), 1);
    assertEquals(List.of(new PromoteStandby("node-2", 2, Set.of("node-1"))),
        v.sentOf(PromoteStandby.class));
  }

  @Test
  void theUnsafeOverridePromotesBeforeTheFenceSoTheCheckerCanBite() {
    Volume v = new Volume();
    v.overrides = new SafetyOverrides(false, true);
    v.start(controllerLost(List.of("ctl-b")), 0);

    assertEquals(Stage.PROMOTION_REQUESTED, v.state.stage());
    assertEquals(3, v.state.fencePending().size());
    assertTrue(v.journalOf(Failover.PromotionRequested.class).get(0).fencingSkipped());
  }

  /**
   * Whatever order acks, losses, ticks and restarts come in: at most one promotion, and when it is
   * requested every disk node has confirmed at the new epoch or been given up.
   */
  @Test
  void noInputOrderPromotesBeforeTheFenceOrTwice() {
    for (long seed = 1; seed <= 500; seed++) {
      Random random = new Random(seed);
      Volume v = new Volume().start(controllerLost(List.of("ctl-b", "ctl-c")), 0);
      long now = 0;
      for (int step = 0; step < 40 && !v.state.stage().finished(); step++) {
        now += random.nextInt(2_000);
        String disk = "disk-" + (1 + random.nextInt(3));
        switch (random.nextInt(7)) {
          case 0, 1 -> v.on(new FenceAck(disk, 7 + random.nextInt(2)), now);
          case 2 -> v.on(new NodeUnreachable(random.nextBoolean() ? disk : "ctl-b"), now);
          case 3 -> v.on(new Tick(), now);
          case 4 -> v.restart(now);
          case 5 -> v.on(new PromotionAck(random.nextBoolean() ? "ctl-b" : "ctl-c", 8), now);
          default -> v.on(new Failover.StandbyPlaced("ctl-d"), now);
        }
      }
      long seedForMessage = seed;
      List<Failover.PromotionRequested> promotions =
          v.journalOf(Failover.PromotionRequested.class);
      assertTrue(promotions.size() <= 1, () -> "seed " + seedForMessage + ": " + v.journal);
      if (!promotions.isEmpty()) {
        State atPromotion = replay(v.journal.subList(0, indexOf(v.journal,
            Failover.PromotionRequested.class)));
        assertTrue(atPromotion.fencePending().isEmpty(),
            () -> "seed " + seedForMessage + ": promoted with a fence pending: " + v.journal);
        assertEquals(Set.of("disk-1", "disk-2", "disk-3"),
            union(atPromotion.fenceConfirmed(), atPromotion.fenceAbandoned()));
        assertFalse(v.sentOf(PromoteStandby.class).stream().anyMatch(p -> p.epoch() != 8));
      }
    }
  }

  private static Set<String> union(Set<String> a, Set<String> b) {
    java.util.TreeSet<String> u = new java.util.TreeSet<>(a);
    u.addAll(b);
    return u;
  }

  private static int indexOf(List<Event> journal, Class<?> type) {
    for (int i = 0; i < journal.size(); i++) {
      if (type.isInstance(journal.get(i))) {
        return i;
      }
    }
    throw new AssertionError("no " + type.getSimpleName() + " in " + journal);
  }
}
