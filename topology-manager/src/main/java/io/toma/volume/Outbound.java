package io.toma.volume;

import io.toma.kernel.DesiredState;
import io.toma.placement.MemberSlot;
import io.toma.topology.ControllerRole;
import io.toma.topology.DiskFacts;
import java.util.Set;

/**
 * What a volume's decision asks the world to do, once its events are persisted. The shell (the
 * {@link VirtualDisk} actor, or the deterministic simulation) performs each, and turns every answer
 * into the {@link VolumeInput} named on it.
 */
public sealed interface Outbound {

  /** Ask the capacity view for a snapshot; answer with {@link VolumeInput.CapacityArrived}. */
  record FetchCapacity(int attempt) implements Outbound {}

  /** Ask disk {@code disk.diskId()} for an extent; answer with {@link VolumeInput.ExtentAnswered}. */
  record RequestExtent(int attempt, MemberSlot slot, DiskFacts disk, String tag, long lengthBytes)
      implements Outbound {}

  /**
   * Ask a disk for the replacement extent of the member that had {@code lostTag}; answer with
   * {@link VolumeInput.ReplacementAnswered}.
   */
  record RequestReplacementExtent(String lostTag, DiskFacts disk, String tag, long lengthBytes, int generation)
      implements Outbound {}

  /** Ask a controller node for a standby slot; answer with {@link VolumeInput.StandbySlotAnswered}. */
  record RequestStandbySlot(String nodeId) implements Outbound {}

  /** Ask a controller node for a slot; answer with {@link VolumeInput.SlotAnswered}. */
  record RequestControllerSlot(int attempt, String nodeId, ControllerRole role) implements Outbound {}

  /** Ask a disk to grow {@code tag} in place; answer with {@link VolumeInput.GrowAnswered}({@code member}). */
  record GrowExtent(String diskId, String tag, long newLengthBytes, String member) implements Outbound {}

  /**
   * Give back this volume's extents on {@code diskId} except {@code keepTags}. With
   * {@code confirmTarget} non-empty, answer with {@link VolumeInput.ReleaseAnswered}(confirmTarget).
   */
  record ReleaseExtents(String diskId, Set<String> keepTags, String confirmTarget) implements Outbound {
    public ReleaseExtents {
      keepTags = io.toma.healing.Canonical.set(keepTags);
    }
  }

  /** Give back this volume's controller slot on a node; confirm as {@link ReleaseExtents} does. */
  record ReleaseControllerSlot(String nodeId, String confirmTarget) implements Outbound {}

  /** Send the node's agent this volume's desired state at {@code revision} (agents answer Applied). */
  record ApplyToNode(String nodeId, long revision, DesiredState desired) implements Outbound {}

  /** Tell the node's agent to remove this volume's objects (agents answer Removed). */
  record RemoveFromNode(String nodeId, long revision) implements Outbound {}

  /** Answer every caller waiting for {@code kind} (a create, a grow) and forget them. */
  record AnswerWaiters(WaiterKind kind, VolumeReply reply) implements Outbound {}

  /** The volume index lists this volume ({@code present}) or no longer does. */
  record UpdateIndex(boolean present) implements Outbound {}

  /** Keep the entity from being passivated while it owes work (sharding counts shard messages only). */
  record StayAwake() implements Outbound {}

  /** Say what happened, for operators: a log line, and an event on the events topic. */
  record Publish(String kind, String message) implements Outbound {}

  /** A log line only (level: info or warn). */
  record Log(String level, String message) implements Outbound {}

  enum WaiterKind {
    CREATE,
    GROW
  }
}
