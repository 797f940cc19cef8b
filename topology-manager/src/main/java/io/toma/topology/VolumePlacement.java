package io.toma.topology;

import io.toma.persistence.CborSerializable;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;

/** Where a volume lives: every leg member and every controller. */
public record VolumePlacement(List<ReplicaPlacement> replicas, List<ControllerPlacement> controllers)
    implements CborSerializable {

  public VolumePlacement {
    replicas = List.copyOf(replicas);
    controllers = List.copyOf(controllers);
  }

  public ControllerPlacement active() {
    return controllers.stream()
        .filter(c -> c.role() == ControllerRole.ACTIVE)
        .findFirst()
        .orElseThrow(() -> new IllegalStateException("a placement always has an active controller"));
  }

  /** Every node this volume touches, sorted. */
  public Set<String> nodes() {
    Set<String> nodes = new TreeSet<>();
    replicas.forEach(r -> nodes.add(r.nodeId()));
    controllers.forEach(c -> nodes.add(c.nodeId()));
    return nodes;
  }
}
