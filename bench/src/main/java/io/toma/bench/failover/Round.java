package io.toma.bench.failover;

import io.toma.bench.Report;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Optional;
import java.util.OptionalDouble;

/** One kill and what the host and the failover events showed; all times in milliseconds. */
record Round(int index, String victim, double stallMillis, OptionalDouble detection, OptionalDouble unreachable,
    OptionalDouble confirm, OptionalDouble routing, OptionalDouble fencing, OptionalDouble promotion,
    OptionalDouble hostResume) {

  static final List<String> HEADER = List.of("kill", "node", "stall", "detection", "of which: unreachable",
      "confirm", "routing", "fencing", "promotion", "host resumed");

  List<String> row() {
    return List.of(String.valueOf(index), victim, FailoverBench.ms(stallMillis), opt(detection), opt(unreachable),
        opt(confirm), opt(routing), opt(fencing), opt(promotion), opt(hostResume));
  }

  private static String opt(OptionalDouble v) {
    return v.isPresent() ? FailoverBench.ms(v.getAsDouble()) : "-";
  }

  /** Every round of one detector setting, and what else the run checked. */
  record Summary(String detector, List<Round> rounds, long failedWrites, long acknowledged, int blocksChecked,
      int clusters, List<String> readBackProblems, Optional<String> aborted) {

    Report.Table roundsTable() {
      List<List<String>> rows = new ArrayList<>();
      rounds.forEach(r -> rows.add(r.row()));
      if (rows.isEmpty()) {
        List<String> empty = new ArrayList<>(java.util.Collections.nCopies(HEADER.size(), "-"));
        empty.set(2, aborted.orElse("no round"));
        rows.add(empty);
      }
      return new Report.Table("rounds, " + detector + " (" + clusters + (clusters == 1 ? " cluster" : " clusters") + ")"
          + (aborted.map(a -> " (stopped early: " + a + ")").orElse("")),
          HEADER, rows);
    }

    static Report.Table comparison(List<Summary> summaries) {
      List<List<String>> rows = new ArrayList<>();
      for (Summary s : summaries) {
        double[] stalls = s.rounds().stream().mapToDouble(Round::stallMillis).sorted().toArray();
        rows.add(List.of(s.detector(), String.valueOf(stalls.length),
            stat(stalls, 0), stat(stalls, 50), stat(stalls, 99), stat(stalls, 100),
            median(s.rounds().stream().map(Round::detection).toList()),
            median(s.rounds().stream().map(Round::unreachable).toList()),
            median(s.rounds().stream().map(Round::confirm).toList()),
            median(s.rounds().stream().map(Round::routing).toList()),
            median(s.rounds().stream().map(Round::fencing).toList()),
            median(s.rounds().stream().map(Round::promotion).toList()),
            median(s.rounds().stream().map(Round::hostResume).toList()),
            s.failedWrites() + " failed of " + s.acknowledged() + " acknowledged",
            readBack(s)));
      }
      return new Report.Table("stall (target: median <= 2 s, p99 <= 4 s, no failed or lost write)",
          List.of("layout, failure detector", "kills", "min", "median", "p99", "max", "median detection",
              "median unreachable", "median confirm", "median routing",
              "median fencing", "median promotion", "median host resumed", "writes", "read back"), rows);
    }

    private static String readBack(Summary s) {
      List<String> wrong = s.readBackProblems().stream().filter(p -> !isNote(p)).toList();
      return wrong.isEmpty() ? "all " + s.blocksChecked() + " acknowledged blocks read back"
          : wrong.size() + " blocks wrong: " + wrong.get(0);
    }

    /** The first failed write of each round, for the notes. */
    List<String> failureNotes() {
      return readBackProblems.stream().filter(Summary::isNote).toList();
    }

    /** A failed write or a round given up on a shared cluster: said in the notes, not a read-back problem. */
    private static boolean isNote(String problem) {
      return problem.contains("write failed") || problem.contains("a fresh cluster takes over");
    }

    /** Nearest rank; 0 = min, 100 = max. */
    private static String stat(double[] sorted, int percentile) {
      if (sorted.length == 0) {
        return "-";
      }
      int rank = percentile == 0 ? 0 : (int) Math.ceil(percentile / 100.0 * sorted.length) - 1;
      return FailoverBench.ms(sorted[Math.max(0, Math.min(sorted.length - 1, rank))]);
    }

    private static String median(List<OptionalDouble> values) {
      double[] v = values.stream().filter(OptionalDouble::isPresent).mapToDouble(OptionalDouble::getAsDouble).toArray();
      Arrays.sort(v);
      return stat(v, 50);
    }
  }
}
