package io.toma.bench;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Every benchmark runs end to end at a tiny size and prints its tables: the harness keeps working
 * as the code under it changes. No figure is asserted (this machine is shared and noisy).
 */
class BenchSmokeTest {

  @ParameterizedTest(name = "the {0} benchmark runs at a tiny size and prints its tables")
  @ValueSource(strings = {"rebuild", "provisioning", "scale", "failover"})
  void eachBenchmarkRunsAtATinySizeAndPrintsItsTables(String name) {
    Report report = Bench.run(name, Mode.SMOKE);
    ByteArrayOutputStream bytes = new ByteArrayOutputStream();
    report.print(new PrintStream(bytes, true, StandardCharsets.UTF_8));
    String printed = bytes.toString(StandardCharsets.UTF_8);
    System.out.println(printed);

    assertFalse(report.tables().isEmpty(), name + " printed no table");
    report.tables().forEach(t -> assertFalse(t.rows().isEmpty(), name + ": table '" + t.caption() + "' has no row"));
    assertTrue(printed.contains("- machine: "), "the report names the machine");
    assertTrue(printed.contains("- command: `bench/run " + name), "the report gives the command that reproduces it");
  }
}
