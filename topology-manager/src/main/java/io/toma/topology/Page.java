package io.toma.topology;

import java.util.List;

/** One page of a listing: the items from {@code offset}, and how many there are in all. */
public record Page<T>(List<T> items, int offset, int limit, int total) {
  public Page {
    items = List.copyOf(items);
  }
}
