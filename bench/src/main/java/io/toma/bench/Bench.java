package io.toma.bench;

import io.toma.bench.placement.RebuildFanout;
import java.util.Arrays;
import java.util.List;

/**
 * {@code bench/run NAME [--quick]}: runs one benchmark of issue 9 and prints its tables
 * (Markdown, with machine, date, settings and the reference measured in the same run).
 * Names: provisioning, rebuild, scale, failover, all.
 */
public final class Bench {
  public static final List<String> NAMES = List.of("provisioning", "rebuild", "scale", "failover");

  private Bench() {}

  public static void main(String[] args) {
    List<String> list = Arrays.asList(args);
    boolean quick = list.contains("--quick");
    List<String> names = list.stream().filter(a -> !a.startsWith("--")).toList();
    if (names.size() != 1 || !(NAMES.contains(names.get(0)) || names.get(0).equals("all"))) {
      System.err.println("usage: bench/run <" + String.join("|", NAMES) + "|all> [--quick]");
      System.exit(2);
      return;
    }
    List<String> toRun = names.get(0).equals("all") ? NAMES : names;
    for (String name : toRun) {
      run(name, quick).print(System.out);
    }
    // Actor systems are terminated by each benchmark; leave no lingering non-daemon thread.
    System.exit(0);
  }

  /** Runs one benchmark and returns its report (the smoke test calls this). */
  public static Report run(String name, boolean quick) {
    String command = "bench/run " + name + (quick ? " --quick" : "");
    return switch (name) {
      case "rebuild" -> RebuildFanout.run(quick, command);
      case "scale" -> io.toma.bench.scale.ScaleBench.run(quick, command);
      case "provisioning" -> io.toma.bench.provisioning.ProvisioningBench.run(quick, command);
      default -> throw new IllegalArgumentException("unknown benchmark " + name);
    };
  }
}
