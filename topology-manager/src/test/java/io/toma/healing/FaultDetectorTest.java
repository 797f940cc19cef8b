package io.toma.healing;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.toma.healing.FaultDetector.Back;
import io.toma.healing.FaultDetector.DiskFailed;
import io.toma.healing.FaultDetector.DiskLost;
import io.toma.healing.FaultDetector.Downed;
import io.toma.healing.FaultDetector.LinkBack;
import io.toma.healing.FaultDetector.LinkLost;
import io.toma.healing.FaultDetector.Lost;
import io.toma.healing.FaultDetector.NodeBack;
import io.toma.healing.FaultDetector.NodeLost;
import io.toma.healing.FaultDetector.PathLost;
import io.toma.healing.FaultDetector.PathRestored;
import io.toma.healing.FaultDetector.RackLost;
import io.toma.healing.FaultDetector.RaidMemberBack;
import io.toma.healing.FaultDetector.RaidMemberFailed;
import io.toma.healing.FaultDetector.RaidMemberLost;
import io.toma.healing.FaultDetector.RaidMemberRecovered;
import io.toma.healing.FaultDetector.Reachable;
import io.toma.healing.FaultDetector.Removed;
import io.toma.healing.FaultDetector.Unreachable;
import io.toma.healing.Refs.LegRef;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Test;

class FaultDetectorTest {

  private static final long GRACE = HealingSettings.defaults().graceWindow().toMillis();

  @Test
  void oneObserverLosingSightOfANodeIsALinkProblemNotALostNode() {
    DetectorRun run = DetectorRun.aCluster(3, 2);
    run.signal(new Unreachable("r1-n1", "r2-n1")).advance(GRACE + 1_000);

    assertEquals(List.of(new LinkLost("r1-n1", "r2-n1", "unreachable for 10000 ms (gossip)")),
        run.faults);
    assertTrue(run.faultsOf(NodeLost.class).isEmpty());
  }

  @Test
  void aLinkFlappingShorterThanTheGraceWindowStartsNoRebuild() {
    DetectorRun run = DetectorRun.aCluster(3, 2);
    for (int flap = 0; flap < 8; flap++) {
      run.signal(new PathLost("r1-n1", "nqn.v1-leg0", "r2-n1"))
          .signal(new PathLost("r1-n1", "nqn.v2-leg1", "r2-n1"))
          .advance(GRACE / 2)
          .signal(new PathRestored("r1-n1", "nqn.v1-leg0", "r2-n1"))
          .signal(new PathRestored("r1-n1", "nqn.v2-leg1", "r2-n1"))
          .advance(GRACE / 2);
    }
    run.advance(5 * GRACE);

    assertTrue(run.faultsOf(Lost.class).isEmpty(), () -> "no loss expected: " + run.faults);
    assertEquals(8, run.faultsOf(LinkBack.class).size(), "each return re-adds the member");
  }

  @Test
  void aLinkLostLongerThanTheGraceWindowIsReportedOnceHoweverManyPathsAndTicks() {
    DetectorRun run = DetectorRun.aCluster(3, 2);
    run.signal(new PathLost("r1-n1", "nqn.v1-leg0", "r2-n1"))
        .advance(1_000)
        .signal(new Unreachable("r1-n1", "r2-n1"))
        .signal(new PathLost("r1-n1", "nqn.v2-leg1", "r2-n1"))
        .advance(GRACE - 1_250);
    assertTrue(run.faults.isEmpty(), "still inside the grace window");

    run.advance(250).signal(new PathLost("r1-n1", "nqn.v3-leg0", "r2-n1")).advance(10 * GRACE);

    assertEquals(1, run.faultsOf(LinkLost.class).size());
    assertEquals(1, run.faults.size());
  }

  @Test
  void aNodeTheMajoritySeesUnreachableAndThatIsDownedIsLostOnce() {
    DetectorRun run = DetectorRun.aCluster(3, 2);
    run.unreachableByAllOthers("r2-n2", List.of()).advance(3_500);
    assertTrue(run.faults.isEmpty(), "suspected, not yet lost");

    run.signal(new Downed("r2-n2")).advance(250).signal(new Removed("r2-n2")).advance(5 * GRACE);

    assertEquals(List.of(new NodeLost("r2-n2", "downed")), run.faults);
    assertTrue(run.faultsOf(LinkLost.class).isEmpty(), "links to a lost node are its story");
  }

  @Test
  void aNodeUnreachableByTheMajorityLongerThanTheGraceWindowIsLostEvenWithoutDowning() {
    DetectorRun run = DetectorRun.aCluster(2, 2);
    run.unreachableByAllOthers("r1-n1", List.of()).advance(GRACE - 250);
    assertTrue(run.faults.isEmpty());

    run.advance(250).advance(3 * GRACE);

    assertEquals(1, run.faultsOf(NodeLost.class).size());
    assertEquals(1, run.faults.size());
  }

  @Test
  void aNodeThatComesBackWithinTheGraceWindowIsReAddedNotRebuilt() {
    DetectorRun run = DetectorRun.aCluster(3, 2);
    run.unreachableByAllOthers("r3-n1", List.of()).advance(4_000).reachableByAllOthers("r3-n1")
        .advance(5 * GRACE);

    assertEquals(List.of(new NodeBack("r3-n1")), run.faults);
  }

  @Test
  void aNodeTheMajoritySeesUnreachableForTheConfirmWindowIsReportedUnreachableOnceBeforeItIsDowned() {
    DetectorRun run = DetectorRun.aCluster(3, 2);
    long confirm = HealingSettings.DEFAULT_CONTROLLER_FAILOVER_CONFIRM.toMillis();
    run.unreachableByAllOthers("r2-n2", List.of()).advance(confirm - DetectorRun.TICK);
    assertTrue(run.unreachable.isEmpty(), "not yet confirmed");

    run.advance(DetectorRun.TICK).advance(3_000);
    assertEquals(1, run.unreachable.size());
    assertEquals("r2-n2", run.unreachable.get(0).node());
    assertTrue(run.faults.isEmpty(), "unreachable is not lost: nothing to rebuild yet");

    run.signal(new Downed("r2-n2")).advance(5 * GRACE);
    assertEquals(List.of(new NodeLost("r2-n2", "downed")), run.faults);
    assertEquals(1, run.unreachable.size(), "reported once per suspicion");
  }

  @Test
  void aNodeThatFlapsAfterAnEarlyReportIsNotReportedEarlyAgainWithinTheGraceWindow() {
    DetectorRun run = DetectorRun.aCluster(3, 2);
    long confirm = HealingSettings.DEFAULT_CONTROLLER_FAILOVER_CONFIRM.toMillis();
    run.unreachableByAllOthers("r2-n2", List.of()).advance(confirm + DetectorRun.TICK);
    assertEquals(1, run.unreachable.size(), "the first suspicion is reported early");

    run.reachableByAllOthers("r2-n2").advance(DetectorRun.TICK)
        .unreachableByAllOthers("r2-n2", List.of()).advance(GRACE / 2);
    assertEquals(1, run.unreachable.size(), "a flap within the grace window waits for downing");

    run.signal(new Downed("r2-n2")).advance(DetectorRun.TICK);
    assertEquals(List.of(new NodeBack("r2-n2"), new NodeLost("r2-n2", "downed")), run.faults,
        "downing still declares it lost");
  }

  @Test
  void aNodeThatFlappedLongAgoIsReportedEarlyAgain() {
    DetectorRun run = DetectorRun.aCluster(3, 2);
    long confirm = HealingSettings.DEFAULT_CONTROLLER_FAILOVER_CONFIRM.toMillis();
    run.unreachableByAllOthers("r2-n2", List.of()).advance(confirm + DetectorRun.TICK)
        .reachableByAllOthers("r2-n2").advance(GRACE + DetectorRun.TICK)
        .unreachableByAllOthers("r2-n2", List.of()).advance(confirm + DetectorRun.TICK);

    assertEquals(2, run.unreachable.size());
  }

  @Test
  void halfTheMembersUnreachableAtOnceLooksLikeTheObserverCutOffAndMovesNothingEarly() {
    DetectorRun run = DetectorRun.aCluster(3, 2);
    for (String subject : List.of("r2-n1", "r2-n2", "r3-n1")) {
      run.unreachableByAllOthers(subject, List.of());
    }
    run.advance(GRACE - DetectorRun.TICK);

    assertTrue(run.unreachable.isEmpty(), "3 of 6 suspected: downing decides, not the early failover");
  }

  @Test
  void aRackOfTwoInSixUnreachableIsStillReportedEarly() {
    DetectorRun run = DetectorRun.aCluster(3, 2);
    run.unreachableByAllOthers("r2-n1", List.of("r2-n2")).unreachableByAllOthers("r2-n2", List.of("r2-n1"))
        .advance(HealingSettings.DEFAULT_CONTROLLER_FAILOVER_CONFIRM.toMillis() + DetectorRun.TICK);

    assertEquals(Set.of("r2-n1", "r2-n2"),
        Set.copyOf(run.unreachable.stream().map(FaultDetector.NodeUnreachable::node).toList()));
  }

  @Test
  void oneObserverAloneNeverMakesANodeUnreachable() {
    DetectorRun run = DetectorRun.aCluster(3, 2);
    run.signal(new Unreachable("r1-n1", "r2-n2")).advance(3 * GRACE);
    assertTrue(run.unreachable.isEmpty(), "a link problem, not a node the majority cannot see");
  }

  @Test
  void twoNodesOfOneRackLostTogetherAreReportedAsOneRackLoss() {
    DetectorRun run = DetectorRun.aCluster(3, 2);
    run.unreachableByAllOthers("r1-n1", List.of("r1-n2"))
        .advance(400)
        .unreachableByAllOthers("r1-n2", List.of("r1-n1"))
        .advance(3_200)
        .signal(new Downed("r1-n1"))
        .advance(250)
        .signal(new Downed("r1-n2"))
        .advance(5 * GRACE);

    assertEquals(List.of(new RackLost("r1", Set.of("r1-n1", "r1-n2"))), run.faults);
    assertTrue(run.faultsOf(NodeLost.class).isEmpty(), "one rack event, not one per node");
  }

  @Test
  void twoNodesOfOneRackLostFarApartAreTwoNodeLosses() {
    DetectorRun run = DetectorRun.aCluster(3, 2);
    run.unreachableByAllOthers("r1-n1", List.of()).signal(new Downed("r1-n1")).advance(30_000)
        .unreachableByAllOthers("r1-n2", List.of("r1-n1")).signal(new Downed("r1-n2"))
        .advance(30_000);

    assertEquals(2, run.faultsOf(NodeLost.class).size());
    assertTrue(run.faultsOf(RackLost.class).isEmpty());
  }

  @Test
  void aCutOffNodesOwnViewDoesNotMakeTheMajorityLost() {
    DetectorRun run = DetectorRun.aCluster(3, 2);
    run.unreachableByAllOthers("r1-n1", List.of());
    for (String other : run.nodes) {
      if (!other.equals("r1-n1")) {
        run.signal(new Unreachable("r1-n1", other));
      }
    }
    run.advance(3 * GRACE);

    assertEquals(List.of("r1-n1"),
        run.faultsOf(NodeLost.class).stream().map(NodeLost::node).toList());
    assertTrue(run.faultsOf(LinkLost.class).isEmpty(), "the cut-off node's links are its story");
  }

  @Test
  void aDiskReportedLostTwiceIsOneDiskLoss() {
    DetectorRun run = DetectorRun.aCluster(2, 2);
    run.signal(new DiskFailed("r1-n1", "nvme0", "device gone"))
        .signal(new DiskFailed("r1-n1", "nvme0", "I/O errors"))
        .advance(3 * GRACE);

    assertEquals(List.of(new DiskLost("r1-n1", "nvme0", "device gone")), run.faults);
  }

  @Test
  void aRaidMemberThatRecoversWithinTheGraceWindowIsReAddedAndOneThatStaysDeadIsLostOnce() {
    DetectorRun run = DetectorRun.aCluster(2, 2);
    LegRef leg = new LegRef("v1", 0);
    run.signal(new RaidMemberFailed("r1-n1", "v1", 0, 1)).advance(2_000)
        .signal(new RaidMemberRecovered("r1-n1", "v1", 0, 1))
        .signal(new RaidMemberFailed("r1-n1", "v1", 0, 2)).advance(GRACE)
        .signal(new RaidMemberFailed("r1-n1", "v1", 0, 2)).advance(3 * GRACE);

    assertEquals(List.of(new RaidMemberBack("r1-n1", leg, 1), new RaidMemberLost("r1-n1", leg, 2)),
        run.faults);
  }

  @Test
  void aNodeThatRejoinsAfterItsLossCanBeLostAgain() {
    DetectorRun run = DetectorRun.aCluster(2, 2);
    run.unreachableByAllOthers("r2-n1", List.of()).signal(new Downed("r2-n1")).advance(1_000)
        .signal(new Removed("r2-n1")).advance(1_000)
        .signal(new FaultDetector.MemberUp("r2-n1", java.util.Optional.of("r2")))
        .advance(GRACE)
        .unreachableByAllOthers("r2-n1", List.of()).signal(new Downed("r2-n1")).advance(1_000);

    assertEquals(2, run.faultsOf(NodeLost.class).size());
  }

  @Test
  void aReturningLinkAfterItsLossWasDeclaredChangesNothing() {
    DetectorRun run = DetectorRun.aCluster(2, 2);
    run.signal(new Unreachable("r1-n1", "r2-n2")).advance(2 * GRACE)
        .signal(new Reachable("r1-n1", "r2-n2")).advance(GRACE);

    assertEquals(1, run.faultsOf(LinkLost.class).size());
    assertTrue(run.faultsOf(Back.class).isEmpty(), "the rebuild already under way goes on");
  }

  @Test
  void aNodeThatLeavesGracefullyIsNoLossButItsDeadPathsStillAre() {
    DetectorRun run = DetectorRun.aCluster(2, 2);
    run.signal(new Removed("r2-n2")).advance(3 * GRACE);
    assertTrue(run.faults.isEmpty(), "its kernel still serves what it holds");

    run.signal(new PathLost("r1-n1", "nqn.v1-leg0", "r2-n2")).advance(GRACE);
    assertEquals(1, run.faultsOf(LinkLost.class).size());
  }
}
