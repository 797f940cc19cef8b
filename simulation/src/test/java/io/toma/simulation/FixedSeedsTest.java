package io.toma.simulation;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.stream.Collectors;
import java.util.stream.LongStream;
import org.junit.jupiter.api.Test;

/**
 * The simulation tier of {@code mvn verify}: a fixed set of seeds, each a random cluster, volumes
 * and fault schedule of every kind, must keep every invariant with the production
 * {@code VolumeDecider} as the manager (through {@link DeciderManager}). Runs are independent and
 * single-threaded, so they are spread over the machine's cores without losing determinism.
 */
class FixedSeedsTest {
  static final long FIRST_SEED = 1;
  static final int SEEDS = 200;

  static Map<Long, RunReport> runAll(Options options) {
    ConcurrentHashMap<Long, RunReport> reports = new ConcurrentHashMap<>();
    LongStream.range(FIRST_SEED, FIRST_SEED + SEEDS).parallel()
        .forEach(seed -> reports.put(seed, SimulationRun.run(seed, options)));
    assertEquals(SEEDS, reports.size());
    List<RunReport> failed = reports.values().stream().filter(r -> !r.passed())
        .sorted((a, b) -> Long.compare(a.seed(), b.seed())).toList();
    String why = failed.stream().map(r -> "seed " + r.seed() + " (replay: " + r.replayCommand() + "): "
        + r.violations().get(0)).collect(Collectors.joining("\n"));
    assertTrue(failed.isEmpty(), failed.size() + " seed(s) broke an invariant:\n" + why);
    int faults = reports.values().stream().mapToInt(RunReport::faultsInjected).sum();
    long writes = reports.values().stream().mapToLong(RunReport::acknowledgedWrites).sum();
    assertTrue(faults >= SEEDS, "every run injects at least one fault, got " + faults);
    assertTrue(writes > 100L * SEEDS, "hosts write and get acknowledgements, got " + writes);
    return reports;
  }

  @Test
  void twoHundredFixedSeedsWithEveryFaultKindKeepEveryInvariantOnTheProductionDecider() {
    Map<Long, RunReport> reports = runAll(Options.small());

    int repairs = reports.values().stream().mapToInt(RunReport::repairsDone).sum();
    assertTrue(repairs > SEEDS / 4, "faults lead to repairs, got " + repairs);
    for (FaultKind kind : FaultKind.values()) {
      assertTrue(reports.values().stream().anyMatch(r -> r.faultsByKind().getOrDefault(kind, 0) > 0),
          "the fixed seeds inject " + kind.label() + " at least once");
    }
  }
}
