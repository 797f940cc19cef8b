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
    List<String> attachments) {

  public VolumeDesign {
    attachments = List.copyOf(attachments);
  }
}
