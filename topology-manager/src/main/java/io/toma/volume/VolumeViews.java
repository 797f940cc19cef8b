package io.toma.volume;

import io.toma.topology.ControllerPlacement;
import io.toma.topology.ControllerRole;
import io.toma.topology.Layout;
import io.toma.topology.ReplicaPlacement;
import io.toma.topology.VolumeSpec;
import io.toma.topology.VolumeView;
import io.toma.topology.VolumeView.ControllerView;
import io.toma.topology.VolumeView.LayoutView;
import io.toma.topology.VolumeView.LegView;
import io.toma.topology.VolumeView.ReplicaView;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;

/** Renders a volume's record as the view callers see. */
public final class VolumeViews {
  private VolumeViews() {}

  public static VolumeView of(String id, VolumeRecord record) {
    VolumeSpec spec = record.spec().orElseThrow();
    Layout layout = spec.layout();
    List<LegView> legs = new ArrayList<>();
    List<ControllerView> controllers = new ArrayList<>();
    record.placement().ifPresent(p -> {
      for (int leg = 0; leg < layout.legs(); leg++) {
        final int index = leg;
        List<ReplicaView> replicas = p.replicas().stream()
            .filter(r -> r.leg() == index)
            .sorted(Comparator.comparingInt(ReplicaPlacement::replica))
            .map(r -> replica(record, r))
            .toList();
        legs.add(new LegView(index, replicas));
      }
      for (ControllerPlacement c : p.controllers()) {
        boolean active = c.role() == ControllerRole.ACTIVE;
        controllers.add(new ControllerView(c.nodeId(), active ? "active" : "standby",
            active ? "optimized" : "inaccessible"));
      }
    });
    return new VolumeView(id, spec.name(), spec.sizeBytes(), record.visibleState().display(), record.reason(),
        record.epoch(), LayoutView.of(layout), legs, controllers, record.attachments());
  }

  private static ReplicaView replica(VolumeRecord record, ReplicaPlacement r) {
    boolean lost = record.lostDisks().containsKey(r.diskId());
    boolean applied = !record.nodesBehind().contains(r.nodeId());
    String state = lost ? "Lost" : applied ? "Online" : "Provisioning";
    return new ReplicaView(r.diskId(), r.nodeId(), r.rack(), r.zone(), state, lost ? 0 : 100);
  }
}
