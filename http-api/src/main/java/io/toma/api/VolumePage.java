package io.toma.api;

import java.util.List;

/** One page of the volume list; the next page starts at {@code offset + items.size()} while that is below {@code total}. */
public record VolumePage(List<VolumeView> items, int offset, int limit, int total) {
  public VolumePage {
    items = List.copyOf(items);
  }
}
