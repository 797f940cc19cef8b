package io.toma.systemtest;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/** Runs the repository's tool scripts and small system commands, with a time limit. */
public final class Shell {
  private Shell() {}

  /** What a finished command printed; {@code output} holds stdout and stderr interleaved. */
  public record Result(List<String> command, int exitCode, String output) {
    public boolean succeeded() {
      return exitCode == 0;
    }

    public String describe() {
      return String.join(" ", command) + " exited " + exitCode + ":\n" + output.strip();
    }
  }

  public static Result run(List<String> command, Map<String, String> environment, Duration timeout) {
    Path output = null;
    try {
      output = Files.createTempFile("toma-shell", ".out");
      ProcessBuilder builder =
          new ProcessBuilder(command).redirectErrorStream(true).redirectOutput(output.toFile());
      builder.environment().putAll(environment);
      Process process = builder.start();
      if (!process.waitFor(timeout.toMillis(), TimeUnit.MILLISECONDS)) {
        process.destroyForcibly().waitFor();
        return new Result(command, -1, "timed out after " + timeout + "\n" + read(output));
      }
      return new Result(command, process.exitValue(), read(output));
    } catch (IOException e) {
      return new Result(command, -1, "cannot run: " + e.getMessage());
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return new Result(command, -1, "interrupted");
    } finally {
      if (output != null) {
        try {
          Files.deleteIfExists(output);
        } catch (IOException ignored) {
          // A leftover temp file is harmless.
        }
      }
    }
  }

  public static Result run(List<String> command, Duration timeout) {
    return run(command, Map.of(), timeout);
  }

  /** True when {@code name} is an executable on the PATH. */
  public static boolean onPath(String name) {
    return run(List.of("sh", "-c", "command -v " + name), Duration.ofSeconds(10)).succeeded();
  }

  private static String read(Path file) {
    try {
      return Files.readString(file, StandardCharsets.UTF_8);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }
}
