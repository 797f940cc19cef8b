package io.toma.kernel;

import java.util.Collections;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;

/**
 * Immutable copies that iterate in key order. Map.copyOf and Set.copyOf iterate in an order that
 * changes from one JVM to the next, so anything derived by iterating them (a reconcile's op list, a
 * plan) would not replay from a simulation seed.
 */
public final class Ordered {
  private Ordered() {}

  public static <K extends Comparable<? super K>, V> Map<K, V> map(Map<K, V> source) {
    return Collections.unmodifiableMap(new TreeMap<>(source));
  }

  public static <T extends Comparable<? super T>> Set<T> set(Set<T> source) {
    return Collections.unmodifiableSet(new TreeSet<>(source));
  }
}
