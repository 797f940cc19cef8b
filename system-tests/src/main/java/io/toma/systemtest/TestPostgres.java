package io.toma.systemtest;

import java.nio.file.Path;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * A throwaway PostgreSQL for one test class, started and stopped by {@code tools/postgres/start.sh}
 * and {@code stop.sh} (which install Debian's package first when it is missing and we are root).
 */
public final class TestPostgres implements AutoCloseable {
  private static final Duration START_TIMEOUT = Duration.ofMinutes(5);

  /** Started, or why not: a test that needs it is skipped with that reason. */
  public sealed interface Outcome permits Started, Unavailable {}

  public record Started(TestPostgres postgres) implements Outcome {}

  public record Unavailable(String reason) implements Outcome {}

  private final Path tools;
  private final Path directory;
  private final JournalDatabase database;
  private final AtomicBoolean closed = new AtomicBoolean();

  private TestPostgres(Path tools, Path directory, JournalDatabase database) {
    this.tools = tools;
    this.directory = directory;
    this.database = database;
    // A test JVM that dies before @AfterAll must not leave a server running.
    Runtime.getRuntime().addShutdownHook(new Thread(this::close, "toma-system-test-postgres-stop"));
  }

  /**
   * @param listen the addresses it listens on; the first is the one in the JDBC URL
   * @param trustedNetwork a CIDR besides loopback allowed to connect, if any
   */
  public static Outcome start(Path repoRoot, List<String> listen, Optional<String> trustedNetwork) {
    Path tools = repoRoot.resolve("tools/postgres");
    Map<String, String> env = new HashMap<>();
    env.put("TOMA_PG_LISTEN", String.join(",", listen));
    trustedNetwork.ifPresent(cidr -> env.put("TOMA_PG_TRUST", cidr));
    int port = FreePort.onLoopback();
    Shell.Result result =
        Shell.run(
            List.of("bash", tools.resolve("start.sh").toString(), Integer.toString(port)),
            env,
            START_TIMEOUT);
    if (!result.succeeded()) {
      return new Unavailable("PostgreSQL could not be started: " + result.describe());
    }
    Map<String, String> printed = assignments(result.output());
    if (!printed.keySet().containsAll(List.of("TOMA_PG_DIR", "TOMA_PG_URL", "TOMA_PG_USER", "TOMA_PG_PASSWORD"))) {
      return new Unavailable("start.sh did not print where PostgreSQL runs: " + result.describe());
    }
    return new Started(
        new TestPostgres(
            tools,
            Path.of(printed.get("TOMA_PG_DIR")),
            new JournalDatabase(
                printed.get("TOMA_PG_URL"), printed.get("TOMA_PG_USER"), printed.get("TOMA_PG_PASSWORD"))));
  }

  public JournalDatabase database() {
    return database;
  }

  @Override
  public void close() {
    if (!closed.compareAndSet(false, true)) {
      return;
    }
    Shell.Result result =
        Shell.run(
            List.of("bash", tools.resolve("stop.sh").toString(), directory.toString()),
            Duration.ofMinutes(1));
    if (!result.succeeded()) {
      System.err.println("system-tests: could not stop PostgreSQL: " + result.describe());
    }
  }

  private static Map<String, String> assignments(String output) {
    Map<String, String> values = new HashMap<>();
    output
        .lines()
        .filter(line -> line.startsWith("TOMA_PG_") && line.contains("="))
        .forEach(line -> values.put(line.substring(0, line.indexOf('=')), line.substring(line.indexOf('=') + 1)));
    return values;
  }
}
