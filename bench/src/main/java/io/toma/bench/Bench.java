package io.toma.bench;

import io.toma.bench.failover.FailoverBench;
import io.toma.bench.placement.RebuildFanout;
import io.toma.bench.provisioning.ProvisioningBench;
import io.toma.bench.scale.ScaleBench;
import java.util.Arrays;
import java.util.List;

/**
 * {@code bench/run NAME [--quick]}: runs one benchmark of issue 9 and prints its tables
 * (Markdown, with machine, date, settings and the reference measured in the same run).
 * Names: provisioning, rebuild, scale, failover, all. The server can offer it as
 * {@code toma bench ...} by calling {@link #main}.
 */
public final class Bench {
  public static final List<String> NAMES = List.of("provisioning", "rebuild", "scale", "failover");

  private Bench() {}

  public static void main(String[] args) {
    List<String> list = Arrays.asList(args);
    Mode mode = list.contains("--quick") ? Mode.QUICK : list.contains("--smoke") ? Mode.SMOKE : Mode.FULL;
    List<String> names = list.stream().filter(a -> !a.startsWith("--")).toList();
    if (names.size() != 1 || !(NAMES.contains(names.get(0)) || names.get(0).equals("all"))) {
      System.err.println("usage: bench/run <" + String.join("|", NAMES) + "|all> [--quick]");
      System.exit(2);
      return;
    }
    List<String> toRun = names.get(0).equals("all") ? NAMES : names;
    for (String name : toRun) {
      run(name, mode).print(System.out);
    }
    // Every benchmark terminates its actor systems; exit so no stray thread keeps the JVM up.
    System.exit(0);
  }

  /** Runs one benchmark and returns its report (the smoke test calls this with {@link Mode#SMOKE}). */
  public static Report run(String name, Mode mode) {
    String command = "bench/run " + name + switch (mode) {
      case SMOKE -> " --smoke";
      case QUICK -> " --quick";
      case FULL -> "";
    };
    return switch (name) {
      case "provisioning" -> ProvisioningBench.run(mode, command);
      case "rebuild" -> RebuildFanout.run(mode, command);
      case "scale" -> ScaleBench.run(mode, command);
      case "failover" -> FailoverBench.run(mode, command);
      default -> throw new IllegalArgumentException("unknown benchmark " + name + "; one of " + NAMES);
    };
  }
}
