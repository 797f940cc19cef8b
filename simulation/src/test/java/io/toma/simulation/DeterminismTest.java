package io.toma.simulation;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

class DeterminismTest {

  @Test
  void aSeedReplaysToTheSameReportAndTrace() {
    RunReport first = SimulationRun.run(42, Options.defaults());
    RunReport again = SimulationRun.run(42, Options.defaults());

    assertEquals(first, again);
    assertEquals(first.traceDigest(), again.traceDigest());
    assertTrue(first.faultsInjected() > 0 && first.acknowledgedWrites() > 0, "the run did something: " + first);
  }

  @Test
  void differentSeedsGiveDifferentRuns() {
    assertNotEquals(SimulationRun.run(7, Options.small()).traceDigest(), SimulationRun.run(8, Options.small()).traceDigest());
  }

  @Test
  void aFailingRunNamesTheCommandThatReplaysIt() {
    assertEquals("./toma simulate --seeds 1 --from 1234", RunReport.replayCommand(1234));
  }
}
