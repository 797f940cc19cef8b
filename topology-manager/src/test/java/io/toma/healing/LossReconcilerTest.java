package io.toma.healing;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;
import java.util.Set;
import org.junit.jupiter.api.Test;

class LossReconcilerTest {

  private static final Duration CONFIRM = Duration.ofSeconds(2);
  private static final Set<String> KNOWN = Set.of("n1", "n2", "n3");

  @Test
  void aKnownNodeThatIsNoLongerAMemberIsRoutedAsLostAtTheSecondLook() {
    LossReconciler.Step first = LossReconciler.reconcile(LossReconciler.State.empty(), KNOWN, Set.of("n1", "n3"), 0,
        CONFIRM);
    assertEquals(Set.of(), first.lost(), "one look is not enough: the two views are gossiped apart");

    LossReconciler.Step second = LossReconciler.reconcile(first.state(), KNOWN, Set.of("n1", "n3"), 2_000, CONFIRM);

    assertEquals(Set.of("n2"), second.lost());
  }

  @Test
  void aLossIsRoutedOnceWhileTheNodeStaysGone() {
    LossReconciler.State s = LossReconciler.State.empty();
    int routed = 0;
    for (long t = 0; t <= 20_000; t += 2_000) {
      LossReconciler.Step step = LossReconciler.reconcile(s, KNOWN, Set.of("n1", "n3"), t, CONFIRM);
      routed += step.lost().size();
      s = step.state();
    }
    assertEquals(1, routed);
  }

  @Test
  void aNodeThatRejoinsBeforeTheSecondLookIsNotRouted() {
    LossReconciler.Step first = LossReconciler.reconcile(LossReconciler.State.empty(), KNOWN, Set.of("n1", "n3"), 0,
        CONFIRM);

    LossReconciler.Step second = LossReconciler.reconcile(first.state(), KNOWN, KNOWN, 2_000, CONFIRM);
    LossReconciler.Step third = LossReconciler.reconcile(second.state(), KNOWN, Set.of("n1", "n3"), 4_000, CONFIRM);

    assertEquals(Set.of(), second.lost());
    assertEquals(Set.of(), third.lost(), "missing again starts a new count");
  }

  @Test
  void aLossTheDetectorAlreadyRoutedIsNotRoutedAgain() {
    LossReconciler.State s = LossReconciler.State.empty().withRouted(Set.of("n2"));
    for (long t = 0; t <= 10_000; t += 2_000) {
      LossReconciler.Step step = LossReconciler.reconcile(s, KNOWN, Set.of("n1", "n3"), t, CONFIRM);
      assertTrue(step.lost().isEmpty());
      s = step.state();
    }
  }

  @Test
  void aNodeThatCameBackAndIsLostAgainIsRoutedAgain() {
    LossReconciler.State s = LossReconciler.State.empty().withRouted(Set.of("n2"));
    s = LossReconciler.reconcile(s, KNOWN, KNOWN, 0, CONFIRM).state();
    s = LossReconciler.reconcile(s, KNOWN, Set.of("n1", "n3"), 2_000, CONFIRM).state();

    assertEquals(Set.of("n2"), LossReconciler.reconcile(s, KNOWN, Set.of("n1", "n3"), 4_000, CONFIRM).lost());
  }

  @Test
  void aMemberTheTopologyDoesNotKnowIsNoLoss() {
    LossReconciler.Step first = LossReconciler.reconcile(LossReconciler.State.empty(), Set.of(), Set.of("m1"), 0,
        CONFIRM);
    assertEquals(Set.of(), LossReconciler.reconcile(first.state(), Set.of(), Set.of(), 5_000, CONFIRM).lost());
  }
}
