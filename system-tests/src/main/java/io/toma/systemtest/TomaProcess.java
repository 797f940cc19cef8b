package io.toma.systemtest;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.TimeUnit;

/** One incarnation of one node: a {@code java -jar toma.jar server} process and its log file. */
public final class TomaProcess {
  private final String nodeId;
  private final int incarnation;
  private final Process process;
  private final Path log;

  private TomaProcess(String nodeId, int incarnation, Process process, Path log) {
    this.nodeId = nodeId;
    this.incarnation = incarnation;
    this.process = process;
    this.log = log;
  }

  public static TomaProcess launch(String nodeId, int incarnation, List<String> command, Path log) {
    try {
      Process process =
          new ProcessBuilder(command)
              .redirectErrorStream(true)
              .redirectOutput(log.toFile())
              .start();
      ProcessReaper.track(process);
      return new TomaProcess(nodeId, incarnation, process, log);
    } catch (IOException e) {
      throw new UncheckedIOException("cannot start node " + nodeId + ": " + String.join(" ", command), e);
    }
  }

  public String nodeId() {
    return nodeId;
  }

  public int incarnation() {
    return incarnation;
  }

  public Path log() {
    return log;
  }

  public boolean isAlive() {
    return process.isAlive();
  }

  /** kill -9: no shutdown hook runs, the node does not leave the cluster. */
  public void kill() {
    process.destroyForcibly();
    awaitExit(Duration.ofSeconds(30))
        .orElseThrow(() -> new AssertionError(nodeId + " survived kill -9 for 30 s"));
  }

  /** The exit code once the process has ended within {@code timeout}. */
  public Optional<Integer> awaitExit(Duration timeout) {
    try {
      if (!process.waitFor(timeout.toMillis(), TimeUnit.MILLISECONDS)) {
        return Optional.empty();
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return Optional.empty();
    }
    ProcessReaper.forget(process);
    return Optional.of(process.exitValue());
  }

  /** The last lines of the node's log, for failure messages. */
  public String logTail(int lines) {
    try {
      List<String> all = Files.readAllLines(log);
      return String.join("\n", all.subList(Math.max(0, all.size() - lines), all.size()));
    } catch (IOException e) {
      return "(cannot read " + log + ": " + e.getMessage() + ")";
    }
  }

  @Override
  public String toString() {
    return nodeId + "#" + incarnation + " (log " + log + ")";
  }
}
