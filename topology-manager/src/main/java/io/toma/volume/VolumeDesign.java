package io.toma.volume;

import io.toma.topology.VolumePlacement;
import java.util.List;

/**
 * Everything DesiredStateBuilder needs to know of a placed volume: its geometry, where its members
 * and controllers are, the namespace uuid fixed at create, the hosts attached and the epoch.
 */
public record VolumeDesign(
    String volumeId,
    long epoch,
    VolumeGeometry geometry,
    int replicasPerLeg,
    String namespaceUuid,
    VolumePlacement placement,
    List<String> attachments,
    /** Members whose disk or node is lost: left out of every node, "- -" in their raid1 slot. */
    java.util.Set<String> missingTags,
    /** Replacement members not yet in sync: their raid1 slot carries {@code rebuild <slot>}. */
    java.util.Set<String> rebuildingTags,
    /**
     * Replaced members whose devices stay (disk-side slice, controller connection and meta/data)
     * out of every raid1 table until their replacement is in sync: the agent's reconcile removes
     * before it reloads, so a table must stop using a device one revision before it goes.
     */
    List<io.toma.topology.ReplicaPlacement> retired,
    /** Lost nodes: nothing is asked of them. */
    java.util.Set<String> deadNodes) {

  public VolumeDesign {
    attachments = List.copyOf(attachments);
    missingTags = io.toma.healing.Canonical.set(missingTags);
    rebuildingTags = io.toma.healing.Canonical.set(rebuildingTags);
    retired = List.copyOf(retired);
    deadNodes = io.toma.healing.Canonical.set(deadNodes);
  }

  public VolumeDesign(String volumeId, long epoch, VolumeGeometry geometry, int replicasPerLeg, String namespaceUuid,
      VolumePlacement placement, List<String> attachments) {
    this(volumeId, epoch, geometry, replicasPerLeg, namespaceUuid, placement, attachments, java.util.Set.of(),
        java.util.Set.of(), List.of(), java.util.Set.of());
  }
}
