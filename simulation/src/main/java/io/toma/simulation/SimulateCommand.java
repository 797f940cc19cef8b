package io.toma.simulation;

import io.toma.healing.SafetyOverrides;
import java.io.PrintStream;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;

/**
 * {@code toma simulate --seeds N [--from S] [--faults kind,kind...] [--break fencing|release-before-sync]
 * [--small] [--disaggregated]}: runs N seeded simulations, with the production VolumeDecider as the manager, from seed S and prints a summary (seeds run, faults
 * injected by kind, repairs done, violations with the command that replays each). Exit 0 when no
 * run broke an invariant, 1 when one did, 2 on bad arguments.
 */
public final class SimulateCommand {
  private SimulateCommand() {}

  public static void main(String[] args) {
    System.exit(run(args, System.out));
  }

  public static int run(String[] args, PrintStream out) {
    long seeds = 100;
    long from = 1;
    Options options = Options.defaults();
    String breakWhat = "";
    String faultsArg = "";
    boolean small = false;
    boolean disaggregated = false;
    try {
      for (int i = 0; i < args.length; i++) {
        switch (args[i]) {
          case "--seeds" -> seeds = Long.parseLong(args[++i]);
          case "--from" -> from = Long.parseLong(args[++i]);
          case "--faults" -> faultsArg = args[++i];
          case "--break" -> breakWhat = args[++i];
          case "--small" -> small = true;
          case "--disaggregated" -> disaggregated = true;
          case "--decider" -> { } // the decider is the only manager now: kept so older replay lines still run
          case "--help", "-h" -> {
            out.println("usage: toma simulate --seeds N [--from S] [--faults kind,...] "
                + "[--break fencing|release-before-sync] [--small] [--disaggregated]");
            out.println("fault kinds: " + String.join(", ", EnumSet.allOf(FaultKind.class).stream().map(FaultKind::label).toList()));
            return 0;
          }
          default -> throw new IllegalArgumentException("unknown argument " + args[i]);
        }
      }
      if (seeds < 1) {
        throw new IllegalArgumentException("--seeds must be at least 1");
      }
      if (small) {
        options = Options.small();
      }
      if (disaggregated) {
        options = options.withDisaggregated(true);
      }
      if (!faultsArg.isEmpty()) {
        options = options.withFaultKinds(parseKinds(faultsArg));
      }
      options = switch (breakWhat) {
        case "" -> options;
        case "fencing" -> options.withOverrides(new SafetyOverrides(false, true));
        case "release-before-sync" -> options.withOverrides(new SafetyOverrides(true, false));
        default -> throw new IllegalArgumentException("--break takes fencing or release-before-sync, not " + breakWhat);
      };
    } catch (RuntimeException e) {
      out.println("toma simulate: " + e.getMessage());
      return 2;
    }
    String extra = (small ? " --small" : "") + (disaggregated ? " --disaggregated" : "") + (faultsArg.isEmpty() ? "" : " --faults " + faultsArg)
        + (breakWhat.isEmpty() ? "" : " --break " + breakWhat);
    Summary summary = new Summary();
    long started = System.nanoTime();
    final Options chosen = options;
    // Runs are independent and single-threaded: spread them over the cores, report in seed order.
    List<RunReport> reports = java.util.stream.LongStream.range(from, from + seeds).parallel()
        .mapToObj(seed -> SimulationRun.run(seed, chosen)).toList();
    for (RunReport report : reports) {
      long seed = report.seed();
      summary.add(report);
      if (!report.passed()) {
        out.println("seed " + seed + " FAILED (" + report.shape() + "): replay with " + report.replayCommand() + extra);
        report.violations().forEach(v -> out.println("  " + v));
      }
    }
    double seconds = (System.nanoTime() - started) / 1e9;
    summary.print(out, seconds);
    return summary.failedSeeds == 0 ? 0 : 1;
  }

  private static Set<FaultKind> parseKinds(String text) {
    Set<FaultKind> kinds = EnumSet.noneOf(FaultKind.class);
    for (String part : text.split(",")) {
      String name = part.trim().toUpperCase(Locale.ROOT).replace('-', '_');
      try {
        kinds.add(FaultKind.valueOf(name));
      } catch (IllegalArgumentException e) {
        throw new IllegalArgumentException("unknown fault kind '" + part + "'");
      }
    }
    return kinds;
  }

  /** Totals over many runs. */
  static final class Summary {
    long seeds;
    long failedSeeds;
    long repairs;
    long writes;
    final Map<FaultKind, Long> faults = new TreeMap<>();
    final Map<Violation.Invariant, Long> violations = new TreeMap<>();
    final List<Long> failing = new ArrayList<>();

    void add(RunReport r) {
      seeds++;
      repairs += r.repairsDone();
      writes += r.acknowledgedWrites();
      r.faultsByKind().forEach((k, n) -> faults.merge(k, (long) n, Long::sum));
      r.violations().forEach(v -> violations.merge(v.invariant(), 1L, Long::sum));
      if (!r.passed()) {
        failedSeeds++;
        failing.add(r.seed());
      }
    }

    void print(PrintStream out, double seconds) {
      long totalFaults = faults.values().stream().mapToLong(Long::longValue).sum();
      out.printf(Locale.ROOT, "seeds run: %d in %.1f s (%.1f seeds/s)%n", seeds, seconds, seeds / Math.max(seconds, 1e-9));
      out.printf(Locale.ROOT, "faults injected: %d (%.1f per run)%s%n", totalFaults, (double) totalFaults / seeds,
          faults.isEmpty() ? "" : " " + faults.entrySet().stream().map(e -> e.getKey().label() + "=" + e.getValue()).toList());
      out.println("repairs done: " + repairs);
      out.println("acknowledged writes: " + writes);
      out.println("violations: " + violations.values().stream().mapToLong(Long::longValue).sum()
          + (violations.isEmpty() ? "" : " " + violations) + " in " + failedSeeds + " seed(s)"
          + (failing.isEmpty() ? "" : " " + failing));
    }
  }
}
