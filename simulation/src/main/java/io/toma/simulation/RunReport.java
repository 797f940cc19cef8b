package io.toma.simulation;

import java.util.List;
import java.util.Map;

/**
 * What one seeded run did and found. Two runs of one seed give equal reports, trace digest
 * included (the digest covers every fault, every delivered message and every host I/O outcome).
 */
public record RunReport(
    long seed,
    String shape,
    Map<FaultKind, Integer> faultsByKind,
    int repairsDone,
    long acknowledgedWrites,
    List<Violation> violations,
    Map<String, String> finalState,
    long simulatedMillis,
    String traceDigest) {

  public RunReport {
    faultsByKind = Map.copyOf(faultsByKind);
    violations = List.copyOf(violations);
    finalState = Map.copyOf(finalState);
  }

  public boolean passed() {
    return violations.isEmpty();
  }

  public int faultsInjected() {
    return faultsByKind.values().stream().mapToInt(Integer::intValue).sum();
  }

  /** The one line that replays this run. */
  public String replayCommand() {
    return replayCommand(seed);
  }

  public static String replayCommand(long seed) {
    return "./toma simulate --seeds 1 --from " + seed;
  }
}
