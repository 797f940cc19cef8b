package io.toma.api;

import java.util.List;
import java.util.Optional;

/**
 * A volume as the API shows it. {@code reason} says why it is not Online (absent when it is);
 * {@code epoch} is the fencing epoch, bumped at every controller failover.
 */
public record VolumeView(
    String id,
    String name,
    long sizeBytes,
    VolumeState state,
    Optional<String> reason,
    long epoch,
    Layout layout,
    FailureDomain failureDomain,
    List<LegView> legs,
    List<ControllerView> controllers,
    List<String> attachments) {

  public VolumeView {
    legs = List.copyOf(legs);
    controllers = List.copyOf(controllers);
    attachments = List.copyOf(attachments);
  }
}
