package io.toma.api;

import java.util.List;

/** One raid1 leg (stripe member) and its replicas. */
public record LegView(int index, List<ReplicaView> replicas) {
  public LegView {
    replicas = List.copyOf(replicas);
  }
}
