package io.toma.simulation;

import static org.junit.jupiter.api.Assertions.assertTrue;

import io.toma.healing.SafetyOverrides;
import java.util.EnumSet;
import java.util.List;
import java.util.Set;
import java.util.stream.LongStream;
import org.junit.jupiter.api.Test;

/**
 * A checker that never fails proves nothing: with a safety rule broken on purpose, the matching
 * invariant must be reported within a few seeds, and the very same seeds must pass with the rule
 * kept.
 */
class CheckerBitesTest {
  private static final int FEW_SEEDS = 10;

  /** Controllers cut from the manager while they still serve: a failover runs against a live controller. */
  private static final Options CONTROLLER_CUT_OFF = Options.small().withDisaggregated(true)
      .withFaultKinds(EnumSet.of(FaultKind.CONTROL_LINK_CUT)).withFaults(3, 3);

  /** Members lost with their node still holding them: crashes, partitions, racks. */
  private static final Options NODES_LOST = Options.small().withFaults(2, 3)
      .withFaultKinds(EnumSet.of(FaultKind.NODE_CRASH, FaultKind.PARTITION, FaultKind.RACK_LOSS));

  @Test
  void promotingAStandbyWithoutFencingIsReportedAsTwoWriters() {
    List<RunReport> broken = runs(CONTROLLER_CUT_OFF.withOverrides(new SafetyOverrides(false, true)));
    assertTrue(caught(broken, Set.of(Violation.Invariant.TWO_WRITERS)),
        "skipping the fence before promotion went unnoticed in " + FEW_SEEDS + " seeds");
  }

  @Test
  void theSameFailoversWithFencingKeepOneWriter() {
    List<RunReport> safe = runs(CONTROLLER_CUT_OFF);
    assertTrue(safe.stream().allMatch(RunReport::passed), "with fencing: " + firstViolation(safe));
    assertTrue(safe.stream().mapToInt(RunReport::repairsDone).sum() > 0, "the cut-off controllers were failed over");
  }

  @Test
  void releasingAnExtentBeforeItsNodeRemovedItIsReported() {
    List<RunReport> broken = runs(NODES_LOST.withOverrides(new SafetyOverrides(true, false)));
    assertTrue(caught(broken, Set.of(Violation.Invariant.EXTENT_OWNED_TWICE, Violation.Invariant.ACKNOWLEDGED_WRITE_LOST)),
        "releasing old extents before sync went unnoticed in " + FEW_SEEDS + " seeds");
  }

  @Test
  void theSameRebuildsKeepingTheirExtentsUntilRemovedPass() {
    List<RunReport> safe = runs(NODES_LOST);
    assertTrue(safe.stream().allMatch(RunReport::passed), "with the rule kept: " + firstViolation(safe));
  }

  private static List<RunReport> runs(Options options) {
    return LongStream.rangeClosed(1, FEW_SEEDS).parallel().mapToObj(seed -> SimulationRun.run(seed, options))
        .sorted((a, b) -> Long.compare(a.seed(), b.seed())).toList();
  }

  private static boolean caught(List<RunReport> reports, Set<Violation.Invariant> expected) {
    return reports.stream().flatMap(r -> r.violations().stream()).anyMatch(v -> expected.contains(v.invariant()));
  }

  private static String firstViolation(List<RunReport> reports) {
    return reports.stream().filter(r -> !r.passed()).findFirst()
        .map(r -> "seed " + r.seed() + ": " + r.violations().get(0)).orElse("none");
  }
}
