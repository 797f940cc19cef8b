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

  /** One leg's dm-raid status line: a health character per member (A, a, D), sync progress. */
  public record RaidHealth(String health, long syncedSectors, long totalSectors) {}

  public static VolumeView of(String id, VolumeRecord record) {
    return of(id, record, java.util.Map.of());
  }

  /** The view; {@code raid} maps leg dm names to the controller's last raid status report. */
  public static VolumeView of(String id, VolumeRecord record, java.util.Map<String, RaidHealth> raid) {
    VolumeSpec spec = record.spec().orElseThrow();
    Layout layout = spec.layout();
    List<LegView> legs = new ArrayList<>();
    List<ControllerView> controllers = new ArrayList<>();
    record.placement().ifPresent(p -> {
      java.util.Set<String> notInSync = record.design().rebuildingTags();
      for (int leg = 0; leg < layout.legs(); leg++) {
        final int index = leg;
        List<ReplicaPlacement> members = p.replicas().stream()
            .filter(r -> r.leg() == index)
            .sorted(Comparator.comparingInt(ReplicaPlacement::replica))
            .toList();
        // While a leg resyncs some of its members (replacements, re-added members), only those are
        // syncing: the others are the copies the data comes from, whatever the leg's raid line says.
        boolean resyncingSome = members.stream().anyMatch(m -> notInSync.contains(m.tag()));
        List<ReplicaView> replicas = members.stream()
            .map(r -> replica(record, r, java.util.Optional.ofNullable(raid.get(VolumeNames.legDm(id, index))),
                !resyncingSome || notInSync.contains(r.tag())))
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

  /**
   * A member's state and sync: Lost when its disk is lost; from the raid status when the
   * controller reported one (A in sync 100 %, a syncing at the reported ratio, D dead 0 %);
   * otherwise Online/100 once its node applied the configuration, Provisioning/0 before. With
   * {@code mayBeSyncing} false (a peer of the leg is the one resyncing) an {@code a} is Online.
   */
  private static ReplicaView replica(VolumeRecord record, ReplicaPlacement r, java.util.Optional<RaidHealth> raid,
      boolean mayBeSyncing) {
    boolean lost = record.lostDisks().containsKey(r.diskId());
    boolean applied = !record.nodesBehind().contains(r.nodeId());
    String state = lost ? "Lost" : applied ? "Online" : "Provisioning";
    int sync = lost || !applied ? 0 : 100;
    if (!lost && raid.isPresent() && r.replica() < raid.get().health().length()) {
      char c = raid.get().health().charAt(r.replica());
      RaidHealth h = raid.get();
      if (c == 'D') {
        state = "Failed";
        sync = 0;
      } else if (c == 'a' && mayBeSyncing) {
        state = "Syncing";
        sync = h.totalSectors() == 0 ? 0 : (int) Math.min(99, h.syncedSectors() * 100 / h.totalSectors());
      }
    }
    return new ReplicaView(r.diskId(), r.nodeId(), r.rack(), r.zone(), state, sync);
  }
}
