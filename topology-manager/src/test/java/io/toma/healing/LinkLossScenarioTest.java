package io.toma.healing;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.toma.healing.FaultDetector.Fault;
import io.toma.healing.FaultDetector.PathLost;
import io.toma.healing.FaultDetector.PathRestored;
import io.toma.healing.FaultDetector.RaidMemberFailed;
import io.toma.healing.FaultDetector.Unreachable;
import io.toma.healing.FaultImpact.PlacedMember;
import io.toma.healing.Refs.ExtentRef;
import io.toma.healing.Refs.LegRef;
import io.toma.healing.Refs.MemberRef;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * Detector, impact and rebuild together, the way the VirtualDisk will wire them: every fault is
 * mapped onto members, and a rebuild starts for a member only if none is under way for it.
 */
class LinkLossScenarioTest {

  private static final long GRACE = HealingSettings.defaults().graceWindow().toMillis();

  /** Controller r1-n1 runs v1 and v2; r2-n1 holds three of their members, r3-n1 the others. */
  private static final List<PlacedMember> PLACEMENT = List.of(
      placed("v1", 0, 0, "r2-n1", "r1-n1"),
      placed("v1", 0, 1, "r3-n1", "r1-n1"),
      placed("v1", 1, 0, "r2-n1", "r1-n1"),
      placed("v1", 1, 1, "r3-n1", "r1-n1"),
      placed("v2", 0, 0, "r2-n1", "r1-n1"),
      placed("v2", 0, 1, "r3-n1", "r1-n1"),
      // v3 is controlled elsewhere: r1-n1's link says nothing about it.
      placed("v3", 0, 0, "r2-n1", "r3-n2"));

  private static PlacedMember placed(String vol, int leg, int slot, String node, String ctl) {
    return new PlacedMember(new MemberRef(new LegRef(vol, leg), slot,
        new ExtentRef(node, "nvme0", vol + "-" + leg + "-" + slot)), ctl);
  }

  private final Map<MemberRef, Rebuild.State> rebuilds = new LinkedHashMap<>();
  private final List<MemberRef> readded = new ArrayList<>();

  private int handled = 0;

  /** Hand every fault the detector reported since the last call to the "entity". */
  private void handleNew(DetectorRun run) {
    for (Fault f : run.faults.subList(handled, run.faults.size())) {
      for (MemberRef m : FaultImpact.lostMembers(f, PLACEMENT)) {
        rebuilds.computeIfAbsent(m, k -> Rebuild.start(k, f.toString(), run.now).state());
      }
      readded.addAll(FaultImpact.returnedMembers(f, PLACEMENT));
    }
    handled = run.faults.size();
  }

  @Test
  void aLinkLostLongerThanTheGraceWindowStartsExactlyOneRebuildPerAffectedMember() {
    DetectorRun run = DetectorRun.aCluster(3, 2);
    run.signal(new PathLost("r1-n1", "nqn.v1-0-0", "r2-n1"))
        .signal(new PathLost("r1-n1", "nqn.v1-1-0", "r2-n1"))
        .signal(new PathLost("r1-n1", "nqn.v2-0-0", "r2-n1"))
        .signal(new Unreachable("r1-n1", "r2-n1"))
        .signal(new RaidMemberFailed("r1-n1", "v1", 0, 0))
        .signal(new RaidMemberFailed("r1-n1", "v1", 1, 0))
        .signal(new RaidMemberFailed("r1-n1", "v2", 0, 0));
    handleNew(run);
    for (int i = 0; i < 6; i++) {
      run.advance(GRACE);
      handleNew(run);
    }

    assertEquals(List.of("v1/0/0", "v1/1/0", "v2/0/0"), rebuilds.keySet().stream()
        .map(m -> m.leg().volume() + "/" + m.leg().leg() + "/" + m.slot()).sorted().toList(),
        "one rebuild for each member on r2-n1 that r1-n1 controls, none for v3");
    assertTrue(run.faults.size() >= 2, "the link and the raid members were both reported");
  }

  @Test
  void aLinkFlappingShorterThanTheGraceWindowStartsNoRebuildAndReAddsTheMembers() {
    DetectorRun run = DetectorRun.aCluster(3, 2);
    for (int flap = 0; flap < 5; flap++) {
      run.signal(new PathLost("r1-n1", "nqn.v1-0-0", "r2-n1")).advance(GRACE - 2_000);
      handleNew(run);
      run.signal(new PathRestored("r1-n1", "nqn.v1-0-0", "r2-n1")).advance(3_000);
      handleNew(run);
    }

    assertTrue(rebuilds.isEmpty(), () -> "no rebuild expected, got " + rebuilds.keySet());
    assertEquals(5 * 3, readded.size(), "each return re-adds r2-n1's three members of r1-n1");
  }
}
