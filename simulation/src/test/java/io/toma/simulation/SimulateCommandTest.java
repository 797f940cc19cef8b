package io.toma.simulation;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;

class SimulateCommandTest {

  private record Outcome(int exit, String text) {}

  private static Outcome run(String... args) {
    ByteArrayOutputStream bytes = new ByteArrayOutputStream();
    int exit = SimulateCommand.run(args, new PrintStream(bytes, true, StandardCharsets.UTF_8));
    return new Outcome(exit, bytes.toString(StandardCharsets.UTF_8));
  }

  @Test
  void cleanSeedsPrintASummaryAndExitZero() {
    Outcome o = run("--seeds", "3", "--from", "11", "--small");

    assertEquals(0, o.exit(), o.text());
    assertTrue(o.text().contains("seeds run: 3"), o.text());
    assertTrue(o.text().contains("faults injected:"), o.text());
    assertTrue(o.text().contains("repairs done:"), o.text());
    assertTrue(o.text().contains("violations: 0"), o.text());
  }

  @Test
  void aViolationPrintsItsSeedAndReplayCommandAndExitsOne() {
    Outcome o = run("--seeds", "4", "--from", "1", "--small", "--faults", "node-crash,partition,rack-loss",
        "--break", "release-before-sync");

    assertEquals(1, o.exit(), o.text());
    assertTrue(o.text().contains("FAILED"), o.text());
    assertTrue(o.text().contains("replay with ./toma simulate --seeds 1 --from "), o.text());
    assertTrue(o.text().contains("--break release-before-sync"), o.text());
  }

  @Test
  void unknownArgumentsAreRefusedWithExitTwo() {
    assertEquals(2, run("--seeds", "x").exit());
    assertEquals(2, run("--break", "everything").exit());
    assertEquals(2, run("--faults", "meteor").exit());
  }
}
