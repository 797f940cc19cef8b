package io.toma.bench;

import java.util.Arrays;
import java.util.Locale;

/** Latency samples in nanoseconds and their order statistics (nearest rank). */
public record Latencies(long[] sortedNanos) {

  public static Latencies of(long[] nanos) {
    long[] copy = nanos.clone();
    Arrays.sort(copy);
    return new Latencies(copy);
  }

  public int count() {
    return sortedNanos.length;
  }

  /** The q-quantile (0..1) by nearest rank; 0 when there is no sample. */
  public long quantileNanos(double q) {
    if (sortedNanos.length == 0) {
      return 0;
    }
    int rank = (int) Math.ceil(q * sortedNanos.length);
    return sortedNanos[Math.min(sortedNanos.length - 1, Math.max(0, rank - 1))];
  }

  public double quantileMillis(double q) {
    return quantileNanos(q) / 1e6;
  }

  public static String ms(double millis) {
    return String.format(Locale.ROOT, millis < 10 ? "%.2f ms" : "%.1f ms", millis);
  }
}
