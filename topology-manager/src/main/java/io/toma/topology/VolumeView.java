package io.toma.topology;

import io.toma.persistence.CborSerializable;
import java.util.List;
import java.util.Optional;

/**
 * A volume as callers see it, shaped like the HTTP API's JSON: {@code {"id","name","sizeBytes",
 * "state","reason","epoch","layout","legs":[{"index","replicas":[{"disk","node","rack","zone",
 * "state","syncPercent"}]}],"controllers":[{"node","role","anaState"}],"attachments"}}.
 */
public record VolumeView(
    String id,
    String name,
    long sizeBytes,
    String state,
    Optional<String> reason,
    long epoch,
    LayoutView layout,
    List<LegView> legs,
    List<ControllerView> controllers,
    List<String> attachments)
    implements CborSerializable {

  public VolumeView {
    legs = List.copyOf(legs);
    controllers = List.copyOf(controllers);
    attachments = List.copyOf(attachments);
  }

  public record LayoutView(
      int legs, int replicas, int activeControllers, int standbyControllers, String failureDomain)
      implements CborSerializable {
    public static LayoutView of(Layout layout) {
      return new LayoutView(layout.legs(), layout.replicas(), layout.activeControllers(),
          layout.standbyControllers(), layout.level().label());
    }
  }

  public record LegView(int index, List<ReplicaView> replicas) implements CborSerializable {
    public LegView {
      replicas = List.copyOf(replicas);
    }
  }

  /** state: Online, Provisioning or Lost; syncPercent as the controller's raid1 last reported. */
  public record ReplicaView(
      String disk, String node, String rack, String zone, String state, int syncPercent)
      implements CborSerializable {}

  /** role: active or standby; anaState: optimized or inaccessible (kernel words). */
  public record ControllerView(String node, String role, String anaState) implements CborSerializable {}
}
