package io.toma.systemtest;

import java.time.Duration;
import java.time.Instant;
import java.util.Optional;
import java.util.function.Supplier;

/**
 * Waits for something a real cluster does in its own time (a member seen unreachable, downed, up
 * again). The deadlines are generous on purpose: they bound a broken run, they do not measure a
 * healthy one. A failure says what was awaited and what was last seen.
 */
public final class Poll {
  private static final Duration INTERVAL = Duration.ofMillis(200);

  private Poll() {}

  /** One look: either the awaited value, or a description of what is seen instead. */
  public record Seen<T>(Optional<T> value, String description) {
    public static <T> Seen<T> done(T value, String description) {
      return new Seen<>(Optional.of(value), description);
    }

    public static <T> Seen<T> notYet(String description) {
      return new Seen<>(Optional.empty(), description);
    }
  }

  public static <T> T until(String awaited, Duration timeout, Supplier<Seen<T>> look) {
    Instant deadline = Instant.now().plus(timeout);
    Seen<T> seen = look.get();
    while (seen.value().isEmpty()) {
      if (Instant.now().isAfter(deadline)) {
        throw new AssertionError(
            "waited " + timeout.toSeconds() + " s for " + awaited + "; last seen: " + seen.description());
      }
      pause();
      seen = look.get();
    }
    return seen.value().get();
  }

  private static void pause() {
    try {
      Thread.sleep(INTERVAL.toMillis());
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new AssertionError("interrupted while waiting", e);
    }
  }
}
