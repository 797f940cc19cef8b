package io.toma.systemtest;

import java.util.Arrays;
import java.util.OptionalLong;

/** Monotonic times of a host's acknowledged writes, in order; thread-safe. */
public final class AckLog {
  private long[] nanos = new long[4096];
  private long[] seqs = new long[4096];
  private int size;

  synchronized void add(long atNanos, long seq) {
    if (size == nanos.length) {
      nanos = Arrays.copyOf(nanos, size * 2);
      seqs = Arrays.copyOf(seqs, size * 2);
    }
    nanos[size] = atNanos;
    seqs[size] = seq;
    size++;
  }

  public synchronized int size() {
    return size;
  }

  /** The last acknowledgement at or before {@code atNanos}. */
  public synchronized OptionalLong lastAtOrBefore(long atNanos) {
    int i = Arrays.binarySearch(nanos, 0, size, atNanos);
    int index = i >= 0 ? i : -i - 2;
    return index >= 0 ? OptionalLong.of(nanos[index]) : OptionalLong.empty();
  }

  /** The first acknowledgement after {@code atNanos}. */
  public synchronized OptionalLong firstAfter(long atNanos) {
    int i = Arrays.binarySearch(nanos, 0, size, atNanos);
    int index = i >= 0 ? i + 1 : -i - 1;
    return index < size ? OptionalLong.of(nanos[index]) : OptionalLong.empty();
  }

  /** Acknowledgements after {@code atNanos}. */
  public synchronized int countAfter(long atNanos) {
    int i = Arrays.binarySearch(nanos, 0, size, atNanos);
    int index = i >= 0 ? i + 1 : -i - 1;
    return size - index;
  }
}
