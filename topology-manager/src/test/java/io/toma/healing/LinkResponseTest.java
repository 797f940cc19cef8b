package io.toma.healing;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;

import io.toma.healing.FaultDetector.LinkLost;
import io.toma.healing.FaultImpact.FailOver;
import io.toma.healing.FaultImpact.NoRoute;
import io.toma.healing.FaultImpact.RebuildMembers;
import io.toma.healing.Refs.ExtentRef;
import io.toma.healing.Refs.LegRef;
import io.toma.healing.Refs.MemberRef;
import java.util.List;
import java.util.Set;
import java.util.function.BiPredicate;
import org.junit.jupiter.api.Test;

class LinkResponseTest {

  private static MemberRef member(int leg, int slot, String node) {
    return new MemberRef(new LegRef("v1", leg), slot, new ExtentRef(node, "nvme0", leg + "-" + slot));
  }

  /** Two legs, each mirrored on d1 and d2. */
  private static final List<MemberRef> MEMBERS = List.of(
      member(0, 0, "d1"), member(0, 1, "d2"), member(1, 0, "d1"), member(1, 1, "d2"));

  private static BiPredicate<String, String> cuts(Set<String> pairs) {
    return (node, peer) -> pairs.contains(node + "->" + peer);
  }

  @Test
  void anActiveThatStillReadsEveryLegRebuildsTheUnreachableMembersElsewhere() {
    var response = FaultImpact.respondToLinkLoss(new LinkLost("ctl-a", "d2", "path"), "ctl-a",
        List.of("ctl-b"), MEMBERS, cuts(Set.of("ctl-a->d2")));

    assertEquals(new RebuildMembers(List.of(member(0, 1, "d2"), member(1, 1, "d2"))), response);
  }

  @Test
  void anActiveThatLostAWholeLegFailsOverToAStandbyThatReachesEveryLeg() {
    var response = FaultImpact.respondToLinkLoss(new LinkLost("ctl-a", "d2", "path"), "ctl-a",
        List.of("ctl-b", "ctl-c"), MEMBERS,
        cuts(Set.of("ctl-a->d1", "ctl-a->d2", "ctl-b->d1", "ctl-b->d2")));

    assertEquals(new FailOver("ctl-c"), response);
  }

  @Test
  void withNoStandbyDoingBetterThereIsNoRoute() {
    var response = FaultImpact.respondToLinkLoss(new LinkLost("ctl-a", "d2", "path"), "ctl-a",
        List.of("ctl-b"), MEMBERS, cuts(Set.of("ctl-a->d1", "ctl-a->d2", "ctl-b->d2", "ctl-b->d1")));

    assertInstanceOf(NoRoute.class, response);
  }

  @Test
  void theDetectorsStateAnswersWhoCannotReachWhom() {
    DetectorRun run = DetectorRun.aCluster(2, 2);
    run.signal(new FaultDetector.PathLost("r1-n1", "nqn.x", "r2-n1"));

    assertEquals(true, run.state.cannotReach("r1-n1", "r2-n1"));
    assertEquals(false, run.state.cannotReach("r1-n2", "r2-n1"));
  }
}
