package io.toma.simulation;

import io.toma.disk.Extent;
import io.toma.healing.Failover;
import io.toma.healing.Rebuild;
import io.toma.topology.ControllerPlacement;
import io.toma.topology.VolumePlacement;
import io.toma.topology.VolumeSpec;
import java.util.List;

/**
 * The simulated manager's journal: everything it decided, as facts. {@link ManagerState} is a fold
 * of these and nothing else, so a manager restart (drop memory, replay the journal) lands on the
 * very same state. Failover and rebuild steps are the healing core's own events, wrapped.
 */
public sealed interface ManagerEvent {

  record VolumeCreated(String volume, VolumeSpec spec, String namespaceUuid, VolumePlacement placement,
      List<String> attachments) implements ManagerEvent {}

  record ExtentGranted(String disk, Extent extent) implements ManagerEvent {}

  record ExtentReleased(String disk, Extent extent) implements ManagerEvent {}

  /** A release that waits until {@code node} confirmed it removed the slice (revision {@code revision}). */
  record ReleaseDeferred(String volume, String disk, Extent extent, String node, long revision) implements ManagerEvent {}

  record DiskDeclaredDead(String disk, String reason) implements ManagerEvent {}

  record NodeDeclaredLost(String node) implements ManagerEvent {}

  record NodeDeclaredBack(String node) implements ManagerEvent {}

  record NodeAcked(String volume, String node, long revision) implements ManagerEvent {}

  record NodeRemovedAck(String volume, String node, long revision) implements ManagerEvent {}

  record StandbyAdded(String volume, ControllerPlacement controller) implements ManagerEvent {}

  record StandbyRemoved(String volume, String node) implements ManagerEvent {}

  record FailoverStep(String volume, Failover.Event event) implements ManagerEvent {}

  /** {@code key} names one rebuild: the member's tag and the extent that was lost. */
  record RebuildStep(String volume, String key, Rebuild.Event event) implements ManagerEvent {}
}
