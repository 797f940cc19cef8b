package io.toma.simulation;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import java.util.stream.LongStream;
import org.junit.jupiter.api.Test;

/**
 * The production VolumeDecider, driven by the simulation's shell instead of the VirtualDisk actor:
 * it places the volumes, the simulated nodes apply what it sends, hosts read back every
 * acknowledged write, and manager restarts resume from the journal alone.
 */
class DeciderShellTest {
  /** Faults that need no repair: every volume must stay (or come back) Online by itself. */
  private static final java.util.Set<FaultKind> QUIET_FAULTS =
      java.util.EnumSet.of(FaultKind.MANAGER_RESTART, FaultKind.SLOW_DISK);

  @Test
  void theProductionDeciderBringsEveryVolumeOnlineThroughManagerRestarts() {
    List<RunReport> reports = LongStream.rangeClosed(1, 8).parallel()
        .mapToObj(seed -> SimulationRun.run(seed, Options.small().withFaultKinds(QUIET_FAULTS)))
        .sorted((a, b) -> Long.compare(a.seed(), b.seed())).toList();

    for (RunReport r : reports) {
      assertTrue(r.passed(), "seed " + r.seed() + ": " + r.violations());
      assertTrue(r.acknowledgedWrites() > 0, "seed " + r.seed() + " wrote nothing");
      r.finalState().forEach((volume, state) -> assertEquals("online", state, volume + " of seed " + r.seed()));
    }
    assertTrue(reports.stream().anyMatch(r -> r.faultsByKind().getOrDefault(FaultKind.MANAGER_RESTART, 0) > 0),
        "some run restarted the manager");
  }

  @Test
  void aDeciderRunReplaysFromItsSeed() {
    assertEquals(SimulationRun.run(3, Options.small().withFaultKinds(QUIET_FAULTS)), SimulationRun.run(3, Options.small().withFaultKinds(QUIET_FAULTS)));
  }
}
