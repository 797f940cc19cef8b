package io.toma.healing;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.toma.healing.VolumeHealth.Health;
import io.toma.healing.VolumeHealth.LegState;
import io.toma.healing.VolumeHealth.MemberState;
import io.toma.healing.VolumeHealth.Status;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import org.junit.jupiter.api.Test;

class VolumeHealthTest {

  private static LegState leg(int leg, MemberState... members) {
    return new LegState(leg, List.of(members));
  }

  @Test
  void aVolumeWithEveryMemberInSyncIsOnline() {
    Health h = VolumeHealth.of(List.of(
        leg(0, MemberState.inSync(0), MemberState.inSync(1)),
        leg(1, MemberState.inSync(0), MemberState.inSync(1))), Optional.empty());

    assertEquals(Status.ONLINE, h.status());
  }

  @Test
  void aLostMemberNotYetCopyingMakesTheVolumeDegradedWithTheReason() {
    Health h = VolumeHealth.of(List.of(
        leg(0, MemberState.inSync(0), MemberState.lost(1))), Optional.empty());

    assertEquals(Status.DEGRADED, h.status());
    assertEquals("leg 0 slot 1 lost", h.reason());
  }

  @Test
  void aCopyingMemberMakesTheVolumeRebuildingWithItsPercentage() {
    Health h = VolumeHealth.of(List.of(
        leg(0, MemberState.inSync(0), MemberState.syncing(1, 40)),
        leg(1, MemberState.inSync(0), MemberState.syncing(1, 80))), Optional.empty());

    assertEquals(Status.REBUILDING, h.status());
    assertEquals(Optional.of(60), h.syncPercent());
    assertTrue(h.reason().contains("leg 1 slot 1 at 80%"));
  }

  @Test
  void aLegWithoutAnyInSyncMemberMakesTheVolumeUnavailable() {
    Health h = VolumeHealth.of(List.of(
        leg(0, MemberState.lost(0), MemberState.syncing(1, 10))), Optional.empty());

    assertEquals(Status.UNAVAILABLE, h.status());
  }

  @Test
  void aFailoverUnderWayShowsAsDegradedAndOneWithNothingToPromoteAsUnavailable() {
    Failover.Result started = Failover.start(new Failover.Start("v1", "ctl-a", 1, List.of("ctl-b"),
        Set.of("d1"), "node lost"), 0, HealingSettings.defaults(), SafetyOverrides.SAFE);
    List<LegState> legs = List.of(leg(0, MemberState.inSync(0), MemberState.inSync(1)));

    Health during = VolumeHealth.of(legs, Optional.of(started.state()));
    assertEquals(Status.DEGRADED, during.status());
    assertTrue(during.reason().contains("failing over from ctl-a (fencing requested)"));

    Failover.Result none = Failover.start(new Failover.Start("v1", "ctl-a", 1, List.of(),
        Set.of(), "node lost"), 0, HealingSettings.defaults(), SafetyOverrides.SAFE);
    assertEquals(Status.UNAVAILABLE, VolumeHealth.of(legs, Optional.of(none.state())).status());
  }

  @Test
  void aRebuildsStageMapsOntoWhatTheOperatorSees() {
    Rebuild.State lost = Rebuild.start(RebuildTest.LOST, "disk lost", 0).state();
    Rebuild.State copying = Rebuild.decide(Rebuild.decide(Rebuild.decide(Rebuild.decide(lost,
        new Rebuild.Begin(), SafetyOverrides.SAFE).state(), new Rebuild.Granted(RebuildTest.NEW),
        SafetyOverrides.SAFE).state(), new Rebuild.AttachApplied(1), SafetyOverrides.SAFE).state(),
        new Rebuild.SyncProgress(25), SafetyOverrides.SAFE).state();

    assertEquals(MemberState.lost(1), MemberState.of(lost));
    assertEquals(MemberState.syncing(1, 25), MemberState.of(copying));
  }
}
