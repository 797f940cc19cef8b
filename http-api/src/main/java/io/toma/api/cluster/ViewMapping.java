package io.toma.api.cluster;

import io.toma.api.ControllerView;
import io.toma.api.CreateVolumeRequest;
import io.toma.api.DiskView;
import io.toma.api.FailureDomain;
import io.toma.api.Layout;
import io.toma.api.LegView;
import io.toma.api.NodeView;
import io.toma.api.ReplicaView;
import io.toma.api.VolumeState;
import io.toma.api.VolumeView;
import io.toma.topology.FailureDomainLevel;
import io.toma.topology.VolumeSpec;
import java.util.Locale;

/**
 * Pure translations between the topology manager's views and the API's DTOs. The two are shaped
 * alike on purpose; the differences are spelled out here, once: replica states are the kernel's
 * words in the manager ({@code Online}, {@code Syncing}, {@code Failed}, ...) and the operator's
 * in the API ({@code in-sync}, {@code rebuilding}, {@code failed}), and field names of validation
 * errors follow the request's JSON ({@code size}, not {@code sizeBytes}).
 */
final class ViewMapping {
  private ViewMapping() {}

  static VolumeSpec spec(CreateVolumeRequest request) {
    FailureDomainLevel level = FailureDomainLevel.valueOf(request.failureDomain().name());
    Layout l = request.layout();
    return new VolumeSpec(
        request.name(),
        request.sizeBytes(),
        io.toma.topology.Layout.of(l.legs(), l.replicas(), l.standbyControllers(), level));
  }

  static VolumeView volume(io.toma.topology.VolumeView v) {
    io.toma.topology.VolumeView.LayoutView l = v.layout();
    return new VolumeView(
        v.id(),
        v.name(),
        v.sizeBytes(),
        volumeState(v.state()),
        v.reason(),
        v.epoch(),
        new Layout(l.legs(), l.replicas(), l.standbyControllers()),
        FailureDomain.parse(l.failureDomain()).orElse(FailureDomain.NODE),
        v.legs().stream()
            .map(leg -> new LegView(leg.index(), leg.replicas().stream().map(ViewMapping::replica).toList()))
            .toList(),
        v.controllers().stream().map(c -> new ControllerView(c.node(), c.role(), c.anaState())).toList(),
        v.attachments());
  }

  /** The manager's display words are the API's enum names; an unknown word is a bug worth seeing. */
  static VolumeState volumeState(String display) {
    return VolumeState.valueOf(display);
  }

  /**
   * {@code Provisioning} (not yet applied) shows as {@code rebuilding} at 0 %: a new raid1 makes its
   * first sync exactly as a rebuild does, and the API promises only three words.
   */
  static ReplicaView replica(io.toma.topology.VolumeView.ReplicaView r) {
    String state =
        switch (r.state()) {
          case "Online" -> "in-sync";
          case "Syncing", "Provisioning" -> "rebuilding";
          default -> "failed";
        };
    return new ReplicaView(r.disk(), r.node(), r.rack(), r.zone(), state, r.syncPercent());
  }

  static NodeView node(io.toma.topology.NodeView n, String status) {
    return new NodeView(
        n.id(),
        n.roles(),
        n.zone(),
        n.rack(),
        status,
        n.cordoned(),
        n.disks().stream()
            .map(d -> new DiskView(d.id(), d.sizeBytes(), d.freeBytes(), d.healthy() ? "ok" : "failed"))
            .toList());
  }

  /** The manager names request fields after its own records; the API after the JSON it accepted. */
  static String apiField(String field) {
    return switch (field) {
      case "sizeBytes" -> "size";
      case "layout.failureDomain" -> "failureDomain";
      default -> field;
    };
  }

  static String lower(String text) {
    return text.toLowerCase(Locale.ROOT);
  }
}
