package io.toma.volume;

import io.toma.capacity.CapacityView;
import io.toma.disk.PhysicalDisk;
import io.toma.node.ControllerNode;
import io.toma.placement.MemberSlot;
import io.toma.topology.ControllerRole;
import io.toma.topology.DiskFacts;
import io.toma.topology.VolumeSpec;
import java.util.Optional;

/**
 * Everything a volume reacts to, as plain values: API commands, the answers of PhysicalDisk and
 * ControllerNode entities, node agents' reports, faults and timer ticks. No ActorRef: the shell
 * keeps whom to answer, the decider says what to answer ({@link VolumeDecider.Decision#reply()}).
 * An answer that never came (an ask that timed out) is an empty {@code Optional}.
 */
public sealed interface VolumeInput {

  // ---- API commands ----

  record Create(VolumeSpec spec) implements VolumeInput {}

  record Get() implements VolumeInput {}

  record Delete() implements VolumeInput {}

  record Attach(String hostNqn) implements VolumeInput {}

  record Detach(String hostNqn) implements VolumeInput {}

  record Resize(long newSizeBytes) implements VolumeInput {}

  // ---- lifecycle and time ----

  /** The entity finished recovering its journal: resume whatever was under way. */
  record Recovered() implements VolumeInput {}

  /** A periodic tick: re-send what is owed, give up overdue waits. */
  record Tick() implements VolumeInput {}

  // ---- answers of other entities (to an {@link Outbound}) ----

  /** The capacity view answered {@link Outbound.FetchCapacity} for placement attempt {@code attempt}. */
  record CapacityArrived(int attempt, CapacityView.Snapshot snapshot) implements VolumeInput {}

  /** A disk answered {@link Outbound.RequestExtent}. */
  record ExtentAnswered(int attempt, MemberSlot slot, DiskFacts disk, Optional<PhysicalDisk.GrantReply> reply)
      implements VolumeInput {}

  /** A controller node answered {@link Outbound.RequestControllerSlot}. */
  record SlotAnswered(int attempt, String nodeId, ControllerRole role, Optional<ControllerNode.SlotReply> reply)
      implements VolumeInput {}

  /** A disk answered {@link Outbound.GrowExtent}; {@code member} is as the outbound named it. */
  record GrowAnswered(String member, Optional<PhysicalDisk.GrantReply> reply) implements VolumeInput {}

  /** A release asked with confirmation was (or was not) recorded; {@code target} as the outbound named it. */
  record ReleaseAnswered(String target, boolean ok) implements VolumeInput {}

  // ---- node agents' reports ----

  record Applied(String nodeId, long revision) implements VolumeInput {}

  record ApplyFailed(String nodeId, long revision, String error) implements VolumeInput {}

  record Removed(String nodeId, long revision) implements VolumeInput {}

  /** dm-raid health of one leg on a controller, as the agent read it. */
  record RaidStatus(String nodeId, String dmName, String health, long syncedSectors, long totalSectors)
      implements VolumeInput {}

  // ---- faults (routed to exactly the volumes they touch) ----

  /** A disk holding one of this volume's members is lost (watcher, I/O errors, raid member failed). */
  record MemberLost(String diskId, String reason) implements VolumeInput {}

  /**
   * A node this volume uses was declared lost (unreachable then downed, or part of a lost rack):
   * its controller fails over, its members are rebuilt elsewhere, a fence waiting for it gives up.
   */
  record NodeLost(String nodeId, String reason) implements VolumeInput {}

  /**
   * Controller {@code observer} has not reached disk node {@code peer} for the grace window while
   * both are alive. {@code cutLinks} holds every "observer-&gt;peer" pair known to be cut now (a
   * standby that cannot reach a member is no better a home for the volume).
   */
  record LinkLost(String observer, String peer, String reason, java.util.Set<String> cutLinks)
      implements VolumeInput {
    public LinkLost {
      cutLinks = io.toma.healing.Canonical.set(cutLinks);
    }
  }

  /**
   * A majority has not seen controller node {@code nodeId} for the confirm window; not downed yet.
   * Only a volume none of whose members lives on that node fails over early (the fence protects
   * it); a converged volume waits for the node's loss.
   */
  record ControllerUnreachable(String nodeId, String reason) implements VolumeInput {}

  /**
   * A node that may have fenced itself is in sight again (its agent registered again: it booted,
   * or it sees a majority again after losing it). A fenced agent lifts its fence only on a revision
   * newer than the one it held when it fenced, so it is given one.
   */
  record NodeSeenAgain(String nodeId) implements VolumeInput {}

  /** Drain: the node's controllers fail over and its members move away, like a loss but orderly. */
  record Drain(String nodeId) implements VolumeInput {}

  /** A disk answered {@link Outbound.RequestReplacementExtent} for the rebuild of {@code lostTag}. */
  record ReplacementAnswered(String lostTag, DiskFacts disk, int generation, Optional<PhysicalDisk.GrantReply> reply)
      implements VolumeInput {}

  /** A controller node answered {@link Outbound.RequestStandbySlot}. */
  record StandbySlotAnswered(String nodeId, Optional<ControllerNode.SlotReply> reply) implements VolumeInput {}
}
