package io.toma.kernel.sim;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.OptionalLong;

/**
 * Manual simulated time. Nothing in the simulator reads the wall clock: time moves only when a
 * test (or the deterministic simulation) calls {@link #advance(Duration)}.
 *
 * <p>Listeners with deadlines (a resync that completes, a controller whose ctrl-loss timeout
 * expires) are woken exactly at their deadlines, in order, even inside one long advance: an
 * advance of one hour is the same run as 3600 advances of one second.
 */
public final class SimClock {

  /** Something that changes state with time. */
  public interface Timed {
    /** The earliest sim time (nanos) at which this listener wants {@link #onTime(long)}. */
    OptionalLong nextDeadlineNanos();

    /** Bring the state up to {@code nowNanos}; afterwards every deadline must lie after it. */
    void onTime(long nowNanos);
  }

  private static final int MAX_WAKEUPS_PER_INSTANT = 10_000;

  private final List<Timed> listeners = new ArrayList<>();
  private long nowNanos;

  public synchronized long nowNanos() {
    return nowNanos;
  }

  public Duration now() {
    return Duration.ofNanos(nowNanos);
  }

  public synchronized void register(Timed listener) {
    listeners.add(listener);
  }

  /** Moves time forward by {@code step}, waking every listener at each of its deadlines. */
  public synchronized void advance(Duration step) {
    if (step.isNegative()) {
      throw new IllegalArgumentException("time does not go backwards: " + step);
    }
    long target = Math.addExact(nowNanos, step.toNanos());
    int wakeupsAtThisInstant = 0;
    while (true) {
      long next = earliestDeadline();
      if (next > target) {
        break;
      }
      if (next <= nowNanos) {
        if (++wakeupsAtThisInstant > MAX_WAKEUPS_PER_INSTANT) {
          throw new IllegalStateException("a sim listener keeps asking for time " + nowNanos);
        }
      } else {
        wakeupsAtThisInstant = 0;
        nowNanos = next;
      }
      wakeAll();
    }
    nowNanos = target;
    wakeAll();
  }

  private long earliestDeadline() {
    long earliest = Long.MAX_VALUE;
    for (Timed listener : List.copyOf(listeners)) {
      OptionalLong deadline = listener.nextDeadlineNanos();
      if (deadline.isPresent()) {
        earliest = Math.min(earliest, deadline.getAsLong());
      }
    }
    return earliest;
  }

  private void wakeAll() {
    for (Timed listener : List.copyOf(listeners)) {
      listener.onTime(nowNanos);
    }
  }
}
