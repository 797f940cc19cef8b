package io.toma.healing;

import java.util.Collection;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.SortedMap;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;

/**
 * Immutable, sorted copies. Healing state is persisted and replayed, and its decisions must come
 * out in the same order every run (the simulation replays a seed): hash-ordered sets would make
 * the order of actions differ between JVMs.
 */
public final class Canonical {
  private Canonical() {}

  public static <T extends Comparable<T>> Set<T> set(Collection<T> items) {
    return Collections.unmodifiableSortedSet(new TreeSet<>(items));
  }

  @SafeVarargs
  public static <T extends Comparable<T>> Set<T> setOf(T... items) {
    return set(List.of(items));
  }

  public static <T extends Comparable<T>> Set<T> plus(Set<T> set, T item) {
    TreeSet<T> copy = new TreeSet<>(set);
    copy.add(item);
    return Collections.unmodifiableSortedSet(copy);
  }

  public static <T extends Comparable<T>> Set<T> minus(Set<T> set, T item) {
    TreeSet<T> copy = new TreeSet<>(set);
    copy.remove(item);
    return Collections.unmodifiableSortedSet(copy);
  }

  public static <V> SortedMap<String, V> map(Map<String, V> map) {
    return Collections.unmodifiableSortedMap(new TreeMap<>(map));
  }
}
