package io.toma.healing;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.toma.healing.SelfFence.FenceNow;
import io.toma.healing.SelfFence.KeepServing;
import io.toma.healing.SelfFence.State;
import io.toma.healing.SelfFence.StayFenced;
import io.toma.healing.SelfFence.Step;
import java.time.Duration;
import org.junit.jupiter.api.Test;

class SelfFenceTest {

  private static final HealingSettings SETTINGS = HealingSettings.defaults();
  private static final long TIMEOUT = SETTINGS.selfFenceTimeout().toMillis();

  @Test
  void aControllerCutOffFromTheMajorityLongerThanTheSelfFenceTimeoutTurnsItsExportsInaccessible() {
    Step s = SelfFence.observe(State.serving(), 2, 5, 1_000, SETTINGS);
    assertInstanceOf(KeepServing.class, s.decision());
    s = SelfFence.observe(s.state(), 2, 5, 1_000 + TIMEOUT - 1, SETTINGS);
    assertInstanceOf(KeepServing.class, s.decision());

    s = SelfFence.observe(s.state(), 2, 5, 1_000 + TIMEOUT, SETTINGS);

    FenceNow fence = assertInstanceOf(FenceNow.class, s.decision());
    assertTrue(fence.reason().contains("2 of 5"));
  }

  @Test
  void aShortLossOfTheMajorityKeepsServing() {
    Step s = SelfFence.observe(State.serving(), 1, 3, 0, SETTINGS);
    s = SelfFence.observe(s.state(), 3, 3, TIMEOUT - 500, SETTINGS);
    s = SelfFence.observe(s.state(), 1, 3, TIMEOUT + 100, SETTINGS);

    assertInstanceOf(KeepServing.class, s.decision(), "the clock restarted when the majority came back");
  }

  @Test
  void halfTheClusterIsNotAMajority() {
    Step s = SelfFence.observe(State.serving(), 2, 4, 0, SETTINGS);
    s = SelfFence.observe(s.state(), 2, 4, TIMEOUT, SETTINGS);

    assertInstanceOf(FenceNow.class, s.decision());
  }

  @Test
  void aSelfFencedNodeStaysFencedWhenTheMajorityReturnsUntilTheManagerReinstatesIt() {
    Step s = SelfFence.observe(State.serving(), 1, 3, 0, SETTINGS);
    s = SelfFence.observe(s.state(), 1, 3, TIMEOUT, SETTINGS);
    s = SelfFence.observe(s.state(), 3, 3, TIMEOUT + 1_000, SETTINGS);
    assertInstanceOf(StayFenced.class, s.decision());

    s = SelfFence.observe(SelfFence.reinstated(), 3, 3, TIMEOUT + 2_000, SETTINGS);
    assertInstanceOf(KeepServing.class, s.decision());
  }

  @Test
  void theSelfFenceTimeoutMustBeShorterThanTheHostIoTimeout() {
    assertTrue(HealingSettings.defaults().problems().isEmpty(), "the defaults are safe");

    HealingSettings unsafe = HealingSettings.defaults()
        .withTimeouts(Duration.ofSeconds(30), Duration.ofSeconds(30));

    assertEquals(1, unsafe.problems().size());
    assertTrue(unsafe.problems().get(0).contains("host I/O timeout"));
  }

  @Test
  void settingsThatWouldStallHealingAreRefused() {
    HealingSettings noRebuilds = HealingSettings.defaults().withRebuildCaps(0, 4);
    HealingSettings windowTooLong = HealingSettings.defaults().withGraceWindow(Duration.ofSeconds(1));

    assertEquals(1, noRebuilds.problems().size());
    assertEquals(1, windowTooLong.problems().size());
  }

  @Test
  void aControllerFailoverConfirmLongerThanTheGraceWindowIsRefused() {
    HealingSettings late = HealingSettings.defaults().withControllerFailoverConfirm(Duration.ofSeconds(11));

    assertEquals(1, late.problems().size());
    assertTrue(late.problems().get(0).contains("controller-failover-confirm"));
    assertTrue(HealingSettings.defaults().problems().isEmpty(), "the defaults are safe");
  }
}
