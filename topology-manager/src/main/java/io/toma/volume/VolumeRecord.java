package io.toma.volume;

import io.toma.kernel.DesiredState;
import io.toma.persistence.CborSerializable;
import io.toma.topology.ReplicaPlacement;
import io.toma.topology.VolumePlacement;
import io.toma.topology.VolumeSpec;
import io.toma.topology.VolumeState;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;

/**
 * The persisted state of one volume and its pure state machine: {@link #apply} folds an event in,
 * the queries say what the volume looks like to callers and which nodes still owe an
 * acknowledgement. Issue 6 (self-healing) adds repair stages as new events and fields here.
 *
 * <p>Revisions: every change of configuration bumps {@code revision}; a node whose desired state
 * changed gets that revision as its {@code desiredRevisions} entry, and is in sync when its
 * {@code appliedRevisions} entry reaches it. Nodes whose objects did not change are not disturbed.
 */
public record VolumeRecord(
    Phase phase,
    Optional<VolumeSpec> spec,
    String namespaceUuid,
    long epoch,
    Optional<VolumePlacement> placement,
    List<String> attachments,
    long revision,
    Map<String, Long> desiredRevisions,
    Map<String, Long> appliedRevisions,
    Set<String> touchedDisks,
    Set<String> touchedNodes,
    Map<String, String> lostDisks,
    Set<String> removedNodes,
    /** While an online grow is under way: the new size (slices grown first, then the stack); else 0. */
    long growingToBytes)
    implements CborSerializable {

  public enum Phase {
    ABSENT,
    PLACING,
    PLACED,
    DELETING
  }

  public VolumeRecord {
    attachments = List.copyOf(attachments);
    desiredRevisions = Map.copyOf(desiredRevisions);
    appliedRevisions = Map.copyOf(appliedRevisions);
    touchedDisks = Set.copyOf(touchedDisks);
    touchedNodes = Set.copyOf(touchedNodes);
    lostDisks = Map.copyOf(lostDisks);
    removedNodes = Set.copyOf(removedNodes);
  }

  public static VolumeRecord absent() {
    return new VolumeRecord(Phase.ABSENT, Optional.empty(), "", 0, Optional.empty(), List.of(), 0,
        Map.of(), Map.of(), Set.of(), Set.of(), Map.of(), Set.of(), 0);
  }

  // ---- events (facts, past tense) ----

  public sealed interface Event extends CborSerializable
      permits CreationStarted, CandidatesTouched, VolumePlaced, CreationAbandoned, AttachmentAdded,
          AttachmentRemoved, NodeApplied, MemberLost, DeletionStarted, NodeRemoved, VolumeDeleted,
          GrowStarted, GrowCompleted {}

  public record CreationStarted(VolumeSpec spec, String namespaceUuid) implements Event {}

  /** Disks and nodes asked for extents or slots, so abandoned grants can always be released. */
  public record CandidatesTouched(Set<String> diskIds, Set<String> nodeIds) implements Event {}

  public record VolumePlaced(VolumePlacement placement) implements Event {}

  public record CreationAbandoned(String reason) implements Event {}

  public record AttachmentAdded(String hostNqn) implements Event {}

  public record AttachmentRemoved(String hostNqn) implements Event {}

  public record NodeApplied(String nodeId, long revision) implements Event {}

  public record MemberLost(String diskId, String reason) implements Event {}

  public record DeletionStarted() implements Event {}

  public record NodeRemoved(String nodeId) implements Event {}

  public record VolumeDeleted() implements Event {}

  /**
   * Online grow, stage 1 (kernel-recipes "Online grow": slices first, then the raid): every
   * member's extent was grown in place to {@code extentBytes}; the disk nodes get longer slices.
   */
  public record GrowStarted(long newSizeBytes, long extentBytes) implements Event {}

  /** Stage 2: every disk node applied the longer slices; the controllers get the larger stack. */
  public record GrowCompleted() implements Event {}

  // ---- the state machine ----

  public VolumeRecord apply(Event event) {
    if (event instanceof CreationStarted e) {
      return new VolumeRecord(Phase.PLACING, Optional.of(e.spec()), e.namespaceUuid(), 1, Optional.empty(),
          List.of(), 0, Map.of(), Map.of(), Set.of(), Set.of(), Map.of(), Set.of(), 0);
    }
    if (event instanceof CandidatesTouched e) {
      Set<String> disks = new TreeSet<>(touchedDisks);
      disks.addAll(e.diskIds());
      Set<String> nodes = new TreeSet<>(touchedNodes);
      nodes.addAll(e.nodeIds());
      return new VolumeRecord(phase, spec, namespaceUuid, epoch, placement, attachments, revision,
          desiredRevisions, appliedRevisions, disks, nodes, lostDisks, removedNodes, growingToBytes);
    }
    if (event instanceof VolumePlaced e) {
      VolumeRecord placed = new VolumeRecord(Phase.PLACED, spec, namespaceUuid, epoch, Optional.of(e.placement()),
          attachments, revision, desiredRevisions, appliedRevisions, Set.of(), Set.of(), lostDisks, removedNodes, growingToBytes);
      return placed.reconfigured(Map.of());
    }
    if (event instanceof CreationAbandoned) {
      return absent();
    }
    if (event instanceof AttachmentAdded e) {
      Set<String> hosts = new TreeSet<>(attachments);
      hosts.add(e.hostNqn());
      return withAttachments(List.copyOf(hosts)).reconfigured(desiredStates());
    }
    if (event instanceof AttachmentRemoved e) {
      Set<String> hosts = new TreeSet<>(attachments);
      hosts.remove(e.hostNqn());
      return withAttachments(List.copyOf(hosts)).reconfigured(desiredStates());
    }
    if (event instanceof NodeApplied e) {
      Map<String, Long> applied = new TreeMap<>(appliedRevisions);
      applied.merge(e.nodeId(), e.revision(), Math::max);
      return new VolumeRecord(phase, spec, namespaceUuid, epoch, placement, attachments, revision,
          desiredRevisions, applied, touchedDisks, touchedNodes, lostDisks, removedNodes, growingToBytes);
    }
    if (event instanceof MemberLost e) {
      Map<String, String> lost = new TreeMap<>(lostDisks);
      lost.put(e.diskId(), e.reason());
      return new VolumeRecord(phase, spec, namespaceUuid, epoch, placement, attachments, revision,
          desiredRevisions, appliedRevisions, touchedDisks, touchedNodes, lost, removedNodes, growingToBytes);
    }
    if (event instanceof DeletionStarted) {
      return new VolumeRecord(Phase.DELETING, spec, namespaceUuid, epoch, placement, attachments, revision + 1,
          desiredRevisions, appliedRevisions, touchedDisks, touchedNodes, lostDisks, Set.of(), growingToBytes);
    }
    if (event instanceof NodeRemoved e) {
      Set<String> removed = new TreeSet<>(removedNodes);
      removed.add(e.nodeId());
      return new VolumeRecord(phase, spec, namespaceUuid, epoch, placement, attachments, revision,
          desiredRevisions, appliedRevisions, touchedDisks, touchedNodes, lostDisks, removed, growingToBytes);
    }
    if (event instanceof VolumeDeleted) {
      return absent();
    }
    if (event instanceof GrowStarted e) {
      VolumePlacement p = placement.orElseThrow();
      List<ReplicaPlacement> grown = p.replicas().stream().map(r -> new ReplicaPlacement(r.leg(), r.replica(),
          r.diskId(), r.nodeId(), r.rack(), r.zone(), r.fabricAddress(), r.offsetBytes(), e.extentBytes())).toList();
      Map<String, DesiredState> before = desiredStates();
      return new VolumeRecord(phase, spec, namespaceUuid, epoch, Optional.of(new VolumePlacement(grown, p.controllers())),
          attachments, revision, desiredRevisions, appliedRevisions, touchedDisks, touchedNodes, lostDisks,
          removedNodes, e.newSizeBytes()).reconfigured(before);
    }
    if (event instanceof GrowCompleted) {
      VolumeSpec s = spec.orElseThrow();
      Map<String, DesiredState> before = desiredStates();
      return new VolumeRecord(phase, Optional.of(new VolumeSpec(s.name(), growingToBytes, s.layout())), namespaceUuid,
          epoch, placement, attachments, revision, desiredRevisions, appliedRevisions, touchedDisks, touchedNodes,
          lostDisks, removedNodes, 0).reconfigured(before);
    }
    throw new IllegalArgumentException("unknown event " + event);
  }

  private VolumeRecord withAttachments(List<String> hosts) {
    return new VolumeRecord(phase, spec, namespaceUuid, epoch, placement, hosts, revision,
        desiredRevisions, appliedRevisions, touchedDisks, touchedNodes, lostDisks, removedNodes, growingToBytes);
  }

  /** Bump the revision and give it to every node whose desired state differs from {@code before}. */
  private VolumeRecord reconfigured(Map<String, DesiredState> before) {
    long next = revision + 1;
    Map<String, Long> desired = new TreeMap<>(desiredRevisions);
    desiredStates().forEach((node, state) -> {
      if (!state.equals(before.get(node))) {
        desired.put(node, next);
      }
    });
    return new VolumeRecord(phase, spec, namespaceUuid, epoch, placement, attachments, next,
        desired, appliedRevisions, touchedDisks, touchedNodes, lostDisks, removedNodes, growingToBytes);
  }

  // ---- queries ----

  public VolumeDesign design() {
    VolumeSpec s = spec.orElseThrow();
    return new VolumeDesign(s.name(), epoch, VolumeGeometry.of(s), s.layout().replicas(), namespaceUuid,
        placement.orElseThrow(), attachments);
  }

  /** What every node the volume touches must hold now (empty before placement). */
  public Map<String, DesiredState> desiredStates() {
    return placement.isPresent() ? DesiredStateBuilder.build(design()) : Map.of();
  }

  /** Nodes that have not acknowledged their desired revision yet, sorted. */
  public Set<String> nodesBehind() {
    Set<String> behind = new TreeSet<>();
    desiredRevisions.forEach((node, rev) -> {
      if (appliedRevisions.getOrDefault(node, 0L) < rev) {
        behind.add(node);
      }
    });
    return behind;
  }

  /** Nodes that still hold objects of a deleting volume. */
  public Set<String> nodesNotRemoved() {
    Set<String> pending = new TreeSet<>(placement.map(VolumePlacement::nodes).orElse(Set.of()));
    pending.removeAll(removedNodes);
    return pending;
  }

  public VolumeState visibleState() {
    return switch (phase) {
      case ABSENT, PLACING -> VolumeState.PROVISIONING;
      case DELETING -> VolumeState.DELETING;
      case PLACED -> !lostMembers().isEmpty()
          ? VolumeState.DEGRADED
          : nodesBehind().isEmpty() ? VolumeState.ONLINE : VolumeState.PROVISIONING;
    };
  }

  public Optional<String> reason() {
    return switch (phase) {
      case ABSENT -> Optional.of("not created");
      case PLACING -> Optional.of("placing extents and controllers");
      case PLACED -> placedReason();
      case DELETING -> Optional.of("removing from " + String.join(", ", nodesNotRemoved()));
    };
  }

  private Optional<String> placedReason() {
    List<ReplicaPlacement> lost = lostMembers();
    if (!lost.isEmpty()) {
      return Optional.of(lost.size() + " member(s) lost: " + String.join(", ",
          lost.stream().map(m -> m.tag() + " on " + m.diskId() + " (" + lostDisks.get(m.diskId()) + ")").toList()));
    }
    Set<String> behind = nodesBehind();
    String growing = growingToBytes > 0 ? "growing to " + growingToBytes + " bytes; " : "";
    return behind.isEmpty() ? Optional.empty() : Optional.of(growing
        + "waiting for " + String.join(", ", behind.stream()
            .map(n -> n + " to apply revision " + desiredRevisions.get(n)).toList()));
  }

  public List<ReplicaPlacement> lostMembers() {
    return placement.map(p -> p.replicas().stream().filter(r -> lostDisks.containsKey(r.diskId())).toList())
        .orElse(List.of());
  }
}
