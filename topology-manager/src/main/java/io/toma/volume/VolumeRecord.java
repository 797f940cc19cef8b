package io.toma.volume;

import io.toma.healing.Canonical;
import io.toma.healing.Failover;
import io.toma.healing.Rebuild;
import io.toma.kernel.DesiredState;
import io.toma.topology.ControllerPlacement;
import io.toma.persistence.CborSerializable;
import io.toma.topology.ReplicaPlacement;
import io.toma.topology.VolumePlacement;
import io.toma.topology.VolumeSpec;
import io.toma.topology.VolumeState;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.SortedMap;
import java.util.SortedSet;
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
    long growingToBytes,
    /** The placement attempt under way while PLACING (its answers so far); empty otherwise. */
    Optional<PlacementRound> placing,
    /** An online grow asking its disks to grow the extents, before anything changes; empty otherwise. */
    Optional<GrowRound> growRound,
    /** While DELETING: release targets ("disk:<id>", "node:<id>") that confirmed. */
    Set<String> releasesConfirmed,
    /** Repairs under way or done: the failover and the rebuilds, as their own stage machines. */
    Healing healing,
    /**
     * Nodes the volume no longer touches but that may still hold its objects (every member or
     * controller there was lost, replaced or moved), with the revision their removal carries:
     * each is sent {@code Remove} until it confirms, even after it was out of sight.
     */
    Map<String, Long> draining,
    /**
     * Members the active's raid1 marked failed, by tag, not (yet) declared lost: each is re-added
     * while its grace window runs and declared lost (rebuilt) only if still failed after it.
     */
    Map<String, MemberSuspicion.Suspect> suspects)
    implements CborSerializable {

  public enum Phase {
    ABSENT,
    PLACING,
    PLACED,
    DELETING
  }

  public VolumeRecord {
    attachments = List.copyOf(attachments);
    desiredRevisions = canonical(desiredRevisions);
    appliedRevisions = canonical(appliedRevisions);
    touchedDisks = canonical(touchedDisks);
    touchedNodes = canonical(touchedNodes);
    lostDisks = canonical(lostDisks);
    removedNodes = canonical(removedNodes);
    releasesConfirmed = canonical(releasesConfirmed);
    draining = canonical(draining);
    suspects = suspects == null ? Map.of() : canonical(suspects); // journals written before the field
  }

  // An event changes one or two of the collections; the others are passed on from the previous
  // record already canonical and are kept as they are instead of copied again. Canonical's views
  // wrap a private copy nobody else can change, so sharing them between records is safe.
  private static final Class<?> CANONICAL_MAP = Canonical.map(Map.<String, Object>of()).getClass();
  private static final Class<?> CANONICAL_SET = Canonical.set(Set.<String>of()).getClass();

  private static <V> Map<String, V> canonical(Map<String, V> map) {
    return map.getClass() == CANONICAL_MAP && ((SortedMap<String, V>) map).comparator() == null
        ? map
        : Canonical.map(map);
  }

  private static Set<String> canonical(Set<String> set) {
    return set.getClass() == CANONICAL_SET && ((SortedSet<String>) set).comparator() == null
        ? set
        : Canonical.set(set);
  }

  public static VolumeRecord absent() {
    return new VolumeRecord(Phase.ABSENT, Optional.empty(), "", 0, Optional.empty(), List.of(), 0,
        Map.of(), Map.of(), Set.of(), Set.of(), Map.of(), Set.of(), 0, Optional.empty(), Optional.empty(), Set.of(),
        Healing.none(), Map.of(), Map.of());
  }

  /**
   * The volume's repairs. {@code failover} is the latest failover (finished ones stay until the
   * next); {@code rebuilds} one per lost member, keyed by the lost member's tag, kept when done;
   * {@code marks} the revision a step gave the nodes ("fence", "promote", "attach:&lt;tag&gt;"), so an
   * Applied at or above it confirms the step; {@code rebuildingTags} the replacements not yet in
   * sync; {@code promotions} counts promotions ever requested (a restart must never add one).
   */
  public record Healing(
      Optional<Failover.State> failover,
      Map<String, Rebuild.State> rebuilds,
      Map<String, Long> marks,
      Set<String> rebuildingTags,
      int promotions,
      /** Nodes this volume was told are lost: never chosen again for its members or controllers. */
      Set<String> lostNodes,
      /** Replaced members whose devices stay until their replacement is in sync, by lost tag. */
      Map<String, ReplicaPlacement> retired,
      /**
       * A failover that waits until the lost converged controller must have fenced itself (it
       * writes through members on its own disks, which no disk node can fence); empty otherwise.
       */
      Optional<FailoverDeferred> deferred,
      /**
       * Replacements lost before they were in sync, by their tag: out of the placement, their extent
       * released only once their node confirmed it dropped the slice (it may come back holding it).
       */
      Map<String, ReplicaPlacement> abandoned)
      implements CborSerializable {
    public Healing {
      deferred = deferred == null ? Optional.empty() : deferred; // journals written before the field
      abandoned = abandoned == null ? Map.of() : Canonical.map(abandoned);
      rebuilds = Canonical.map(rebuilds);
      marks = Canonical.map(marks);
      rebuildingTags = Canonical.set(rebuildingTags);
      lostNodes = Canonical.set(lostNodes);
      retired = Canonical.map(retired);
    }

    public static Healing none() {
      return new Healing(Optional.empty(), Map.of(), Map.of(), Set.of(), 0, Set.of(), Map.of(), Optional.empty(), Map.of());
    }

    public boolean failingOver() {
      return deferred.isPresent() || failover.map(f -> !f.stage().finished()).orElse(false);
    }
  }

  /**
   * One placement attempt and what the attempts before it learnt. {@code expected} answers are
   * awaited (one per member, one per controller); {@code controllerOrder} lists the chosen
   * controller nodes, active first; {@code addresses} are the fabric addresses of the snapshot the
   * attempt was chosen from.
   */
  public record PlacementRound(
      int attempt,
      int expected,
      List<String> controllerOrder,
      Map<String, String> addresses,
      Map<String, ReplicaPlacement> granted,
      Map<String, ControllerPlacement> slots,
      List<String> refusedThisAttempt,
      Set<String> excludedDisks,
      Set<String> excludedNodes,
      List<String> refusals)
      implements CborSerializable {
    public PlacementRound {
      controllerOrder = List.copyOf(controllerOrder);
      addresses = Canonical.map(addresses);
      granted = Canonical.map(granted);
      slots = Canonical.map(slots);
      refusedThisAttempt = List.copyOf(refusedThisAttempt);
      excludedDisks = Canonical.set(excludedDisks);
      excludedNodes = Canonical.set(excludedNodes);
      refusals = List.copyOf(refusals);
    }

    static PlacementRound none() {
      return new PlacementRound(0, 0, List.of(), Map.of(), Map.of(), Map.of(), List.of(), Set.of(), Set.of(), List.of());
    }

    public int answers() {
      return granted.size() + slots.size() + refusedThisAttempt.size();
    }

    public boolean complete() {
      return answers() >= expected;
    }
  }

  /** An online grow waiting for every member's disk to grow its extent in place. */
  public record GrowRound(long newSizeBytes, long extentBytes, Set<String> members, Set<String> answered,
      List<String> refusals) implements CborSerializable {
    public GrowRound {
      members = Canonical.set(members);
      answered = Canonical.set(answered);
      refusals = List.copyOf(refusals);
    }

    public boolean complete() {
      return answered.containsAll(members);
    }
  }

  // ---- events (facts, past tense) ----

  public sealed interface Event extends CborSerializable
      permits CreationRequested, NodesInSync, CreationStarted, CandidatesTouched, VolumePlaced, CreationAbandoned, AttachmentAdded,
          AttachmentRemoved, NodeApplied, MemberLost, DeletionStarted, NodeRemoved, VolumeDeleted,
          GrowStarted, GrowCompleted, CandidatesChosen, MemberGranted, MemberRefused, ControllerGranted,
          ControllerRefused, GrowRequested, GrowAnswered, GrowRefused, ReleaseConfirmed, FailoverStep,
          RebuildStep, StandbyAdded, ReplacementPlaced, NodeLostNoted, NodeDrained, FailoverDeferred,
          AbandonedReplacementReleased, LostNodeReturned, RevisionReissued, MemberSuspicion.SuspicionStep,
          StandbyRetired {}

  /**
   * The active controller {@code nodeId} was lost while it holds members of the volume on its own
   * disks: its failover starts at {@code notBeforeMillis}, once the node must have fenced itself
   * (downed, it stops serving within the self-fence timeout). Fencing the other disk nodes sooner
   * would leave it acknowledging writes that land on its own copies only.
   */
  public record FailoverDeferred(String nodeId, long notBeforeMillis, String cause) implements Event {}

  /**
   * A node declared lost answered again (it confirmed it removed the volume's objects) and holds
   * nothing of the volume: it is a candidate for the volume's controllers and members again.
   */
  public record LostNodeReturned(String nodeId) implements Event {}

  /**
   * A node seen again after it may have fenced itself gets its unchanged desired state at a new
   * revision: its agent lifts a self-fence only on a revision newer than the one it fenced at (a
   * replay of that one could be a message sent before the fence).
   */
  public record RevisionReissued(String nodeId) implements Event {}

  /** The extent of an abandoned replacement was given back: its node confirmed it dropped the slice. */
  public record AbandonedReplacementReleased(String tag) implements Event {}

  /** A node the volume no longer touches confirmed it removed the volume's objects at {@code revision}. */
  public record NodeDrained(String nodeId, long revision) implements Event {}

  /** A node this volume uses was declared lost (it is never chosen again for this volume). */
  public record NodeLostNoted(String nodeId, String reason) implements Event {}

  /** One step of the volume's failover ({@link Failover}), persisted as the machine emitted it. */
  public record FailoverStep(Failover.Event event) implements Event {}

  /** One step of the rebuild of the member that had tag {@code lostTag} ({@link Rebuild}). */
  public record RebuildStep(String lostTag, Rebuild.Event event) implements Event {}

  /** A new standby controller took a slot (the last step of a failover, or replacing a lost standby). */
  public record StandbyAdded(ControllerPlacement controller) implements Event {}

  /**
   * The standby on {@code nodeId}, whose node was lost or drained while the active is fine, left the
   * placement ({@link StandbyReplacement}); its node is sent {@code Remove} until it confirms.
   */
  public record StandbyRetired(String nodeId) implements Event {}

  /**
   * The replacement of the member that had {@code lostTag} takes its slot in the placement (with
   * {@code rebuild <slot>} until in sync): persisted with the rebuild's ReplacementGranted.
   */
  public record ReplacementPlaced(String lostTag, ReplicaPlacement replacement) implements Event {}

  /**
   * Facts the decider folds in but the shell does not persist: they are true only while this
   * incarnation runs (a placement round's answers, an agent's acknowledgement), and a restart that
   * forgets them is safe. A placement round interrupted by a restart is started again (every disk
   * and node it asked is recorded as touched, so whatever they granted is released or kept at the
   * end); acknowledgements are asked for again (agents answer a repeated revision idempotently).
   */
  public interface NotPersisted {}

  /**
   * A create arrived and waits for a capacity snapshot to choose its candidates: in memory only,
   * so the first write of a create is {@link CreationStarted} with its candidates.
   */
  public record CreationRequested(VolumeSpec spec, String namespaceUuid) implements Event, NotPersisted {}

  /**
   * The volume was created and its first placement attempt chose {@code candidates} (absent in
   * journals written before the two were one event: they recorded a {@link CandidatesChosen}).
   */
  public record CreationStarted(VolumeSpec spec, String namespaceUuid, Optional<CandidatesChosen> candidates)
      implements Event {
    public CreationStarted {
      candidates = candidates == null ? Optional.empty() : candidates; // journals written before the field
    }

    public CreationStarted(VolumeSpec spec, String namespaceUuid) {
      this(spec, namespaceUuid, Optional.empty());
    }
  }

  /**
   * Every node the volume touches acknowledged its desired revision as of volume revision
   * {@code revision}. One row when a configuration is in sync, instead of one per node: what each
   * node acknowledged on the way there is a cache ({@link NodeApplied}, in memory), and a recovered
   * volume that finds a node behind just sends its revision again.
   */
  public record NodesInSync(long revision) implements Event {}

  /** Disks and nodes asked for extents or slots, so abandoned grants can always be released (older journals). */
  public record CandidatesTouched(Set<String> diskIds, Set<String> nodeIds) implements Event {}

  /**
   * A placement attempt chose its candidates and asks them: the disks and nodes are recorded as
   * touched (so abandoned grants can always be released), and the round awaits one answer each.
   */
  public record CandidatesChosen(int attempt, Set<String> diskIds, List<String> controllerOrder, int expected,
      Map<String, String> addresses) implements Event {
    public CandidatesChosen {
      diskIds = Canonical.set(diskIds);
      controllerOrder = List.copyOf(controllerOrder);
      addresses = Canonical.map(addresses);
    }
  }

  // A placement round's answers: in memory only (older journals hold them, and still replay).

  public record MemberGranted(int attempt, ReplicaPlacement member) implements Event, NotPersisted {}

  public record MemberRefused(int attempt, String diskId, String reason) implements Event, NotPersisted {}

  public record ControllerGranted(int attempt, ControllerPlacement controller) implements Event, NotPersisted {}

  public record ControllerRefused(int attempt, String nodeId, String reason) implements Event, NotPersisted {}

  public record VolumePlaced(VolumePlacement placement) implements Event {}

  public record CreationAbandoned(String reason) implements Event {}

  public record AttachmentAdded(String hostNqn) implements Event {}

  public record AttachmentRemoved(String hostNqn) implements Event {}

  /** One node acknowledged {@code revision}: in memory only (older journals hold them, and still replay). */
  public record NodeApplied(String nodeId, long revision) implements Event, NotPersisted {}

  public record MemberLost(String diskId, String reason) implements Event {}

  public record DeletionStarted() implements Event {}

  public record NodeRemoved(String nodeId) implements Event {}

  /** A release target ("disk:<id>" or "node:<id>") gave the deleting volume's extents or slot back. */
  public record ReleaseConfirmed(String target) implements Event {}

  public record VolumeDeleted() implements Event {}

  /** An online grow asks every member's disk to grow the extent in place; nothing changes yet. */
  public record GrowRequested(long newSizeBytes, long extentBytes, Set<String> members) implements Event {
    public GrowRequested {
      members = Canonical.set(members);
    }
  }

  /** One member's disk answered the grow ({@code refusal} empty when it grew). */
  public record GrowAnswered(String member, Optional<String> refusal) implements Event {}

  /** Some disk could not grow in place: the grow is given up (grown extents keep unused bytes). */
  public record GrowRefused(String reason) implements Event {}

  /**
   * Online grow, stage 1 (kernel-recipes "Online grow": slices first, then the raid): every
   * member's extent was grown in place to {@code extentBytes}; the disk nodes get longer slices.
   */
  public record GrowStarted(long newSizeBytes, long extentBytes) implements Event {}

  /** Stage 2: every disk node applied the longer slices; the controllers get the larger stack. */
  public record GrowCompleted() implements Event {}

  // ---- the state machine ----

  /**
   * A mutable copy, private to one {@link #apply}. The collections are the record's own (immutable)
   * until an event changes one: its accessor copies it on first use. Copying all ten for every
   * event was a visible share of a create's CPU (docs/benchmarks.md §2).
   */
  private static final class Edit {
    Phase phase;
    Optional<VolumeSpec> spec;
    String namespaceUuid;
    long epoch;
    Optional<VolumePlacement> placement;
    List<String> attachments;
    long revision;
    Map<String, Long> desiredRevisions;
    Map<String, Long> appliedRevisions;
    Set<String> touchedDisks;
    Set<String> touchedNodes;
    Map<String, String> lostDisks;
    Set<String> removedNodes;
    long growingToBytes;
    Optional<PlacementRound> placing;
    Optional<GrowRound> growRound;
    Set<String> releasesConfirmed;
    Healing healing;
    Map<String, Long> draining;
    Map<String, MemberSuspicion.Suspect> suspects;

    Edit(VolumeRecord r) {
      phase = r.phase;
      spec = r.spec;
      namespaceUuid = r.namespaceUuid;
      epoch = r.epoch;
      placement = r.placement;
      attachments = r.attachments;
      revision = r.revision;
      desiredRevisions = r.desiredRevisions;
      appliedRevisions = r.appliedRevisions;
      touchedDisks = r.touchedDisks;
      touchedNodes = r.touchedNodes;
      lostDisks = r.lostDisks;
      removedNodes = r.removedNodes;
      growingToBytes = r.growingToBytes;
      placing = r.placing;
      growRound = r.growRound;
      releasesConfirmed = r.releasesConfirmed;
      healing = r.healing;
      draining = r.draining;
      suspects = r.suspects;
    }

    // Copy-on-first-write accessors: a TreeMap/TreeSet here is this Edit's own copy (the record
    // holds unmodifiable views), so it is copied at most once per apply.

    Map<String, Long> appliedRevisions() {
      return appliedRevisions = writable(appliedRevisions);
    }

    Set<String> touchedDisks() {
      return touchedDisks = writable(touchedDisks);
    }

    Set<String> touchedNodes() {
      return touchedNodes = writable(touchedNodes);
    }

    Map<String, String> lostDisks() {
      return lostDisks = writable(lostDisks);
    }

    Set<String> removedNodes() {
      return removedNodes = writable(removedNodes);
    }

    Set<String> releasesConfirmed() {
      return releasesConfirmed = writable(releasesConfirmed);
    }

    Map<String, Long> draining() {
      return draining = writable(draining);
    }

    Map<String, MemberSuspicion.Suspect> suspects() {
      return suspects = writable(suspects);
    }

    private static <V> Map<String, V> writable(Map<String, V> map) {
      return map instanceof TreeMap<String, V> own ? own : new TreeMap<>(map);
    }

    private static Set<String> writable(Set<String> set) {
      return set instanceof TreeSet<String> own ? own : new TreeSet<>(set);
    }

    VolumeRecord build() {
      return new VolumeRecord(phase, spec, namespaceUuid, epoch, placement, attachments, revision, desiredRevisions,
          appliedRevisions, touchedDisks, touchedNodes, lostDisks, removedNodes, growingToBytes, placing, growRound,
          releasesConfirmed, healing, draining, suspects);
    }
  }

  public VolumeRecord apply(Event event) {
    Edit e = new Edit(this);
    if (event instanceof MemberSuspicion.SuspicionStep step) {
      // a re-add starting or ending changes the leg's raid1 table on the active (rebuild <slot>)
      Map<String, DesiredState> before = desiredStates();
      MemberSuspicion.apply(e.suspects(), step.event());
      return step.event().changesTable() ? e.build().reconfigured(before) : e.build();
    }
    if (event instanceof CreationRequested c) {
      return started(c.spec(), c.namespaceUuid());
    }
    if (event instanceof CreationStarted c) {
      VolumeRecord started = started(c.spec(), c.namespaceUuid());
      return c.candidates().map(started::apply).orElse(started);
    }
    if (event instanceof NodesInSync n) {
      desiredRevisions.forEach((node, rev) -> {
        if (rev <= n.revision()) {
          e.appliedRevisions().merge(node, rev, Math::max);
        }
      });
      return e.build();
    }
    if (event instanceof CandidatesTouched c) {
      e.touchedDisks().addAll(c.diskIds());
      e.touchedNodes().addAll(c.nodeIds());
      return e.build();
    }
    if (event instanceof CandidatesChosen c) {
      e.touchedDisks().addAll(c.diskIds());
      e.touchedNodes().addAll(c.controllerOrder());
      PlacementRound before = placing.orElse(PlacementRound.none());
      e.placing = Optional.of(new PlacementRound(c.attempt(), c.expected(), c.controllerOrder(), c.addresses(),
          Map.of(), Map.of(), List.of(), before.excludedDisks(), before.excludedNodes(), before.refusals()));
      return e.build();
    }
    if (event instanceof MemberGranted g) {
      PlacementRound r = placing.orElseThrow();
      Map<String, ReplicaPlacement> granted = new TreeMap<>(r.granted());
      granted.put(g.member().tag(), g.member());
      e.placing = Optional.of(new PlacementRound(r.attempt(), r.expected(), r.controllerOrder(), r.addresses(), granted,
          r.slots(), r.refusedThisAttempt(), r.excludedDisks(), r.excludedNodes(), r.refusals()));
      return e.build();
    }
    if (event instanceof ControllerGranted g) {
      PlacementRound r = placing.orElseThrow();
      Map<String, ControllerPlacement> slots = new TreeMap<>(r.slots());
      slots.put(g.controller().nodeId(), g.controller());
      e.placing = Optional.of(new PlacementRound(r.attempt(), r.expected(), r.controllerOrder(), r.addresses(),
          r.granted(), slots, r.refusedThisAttempt(), r.excludedDisks(), r.excludedNodes(), r.refusals()));
      return e.build();
    }
    if (event instanceof MemberRefused m) {
      e.placing = Optional.of(refused(placing.orElseThrow(), m.diskId() + ": " + m.reason(), Optional.of(m.diskId()),
          Optional.empty()));
      return e.build();
    }
    if (event instanceof ControllerRefused m) {
      e.placing = Optional.of(refused(placing.orElseThrow(), m.nodeId() + ": " + m.reason(), Optional.empty(),
          Optional.of(m.nodeId())));
      return e.build();
    }
    if (event instanceof VolumePlaced p) {
      e.phase = Phase.PLACED;
      e.placement = Optional.of(p.placement());
      e.touchedDisks = Set.of();
      e.touchedNodes = Set.of();
      e.placing = Optional.empty();
      VolumeRecord placed = e.build();
      // A new volume's nodes are its placement's (nothing retired, lost or drained yet): each gets
      // the first revision without deriving the desired states here. They are derived once, when
      // that revision is sent; this fold, and Pekko's fold of the same event, had derived them too.
      boolean fresh = desiredRevisions.isEmpty() && draining.isEmpty() && healing.lostNodes().isEmpty()
          && healing.retired().isEmpty();
      return fresh ? placed.firstRevisionFor(p.placement().nodes()) : placed.reconfigured(Map.of());
    }
    if (event instanceof CreationAbandoned) {
      return absent();
    }
    if (event instanceof AttachmentAdded a) {
      Set<String> hosts = new TreeSet<>(attachments);
      hosts.add(a.hostNqn());
      e.attachments = List.copyOf(hosts);
      return e.build().reconfigured(desiredStates());
    }
    if (event instanceof AttachmentRemoved a) {
      Set<String> hosts = new TreeSet<>(attachments);
      hosts.remove(a.hostNqn());
      e.attachments = List.copyOf(hosts);
      return e.build().reconfigured(desiredStates());
    }
    if (event instanceof NodeApplied a) {
      e.appliedRevisions().merge(a.nodeId(), a.revision(), Math::max);
      return e.build();
    }
    if (event instanceof MemberLost m) {
      // Its members leave every node's desired state ("- -" in the raid1): the survivors' kernels
      // stop waiting for it and a dead disk's slice is not asked of its node.
      Map<String, DesiredState> before = desiredStates();
      e.lostDisks().put(m.diskId(), m.reason());
      return e.build().reconfigured(before);
    }
    if (event instanceof NodeLostNoted n) {
      Set<String> lost = new TreeSet<>(healing.lostNodes());
      lost.add(n.nodeId());
      e.healing = new Healing(healing.failover(), healing.rebuilds(), healing.marks(), healing.rebuildingTags(),
          healing.promotions(), lost, healing.retired(), healing.deferred(), healing.abandoned());
      Map<String, DesiredState> before = desiredStates();
      return e.build().reconfigured(before); // nothing is asked of a lost node any more
    }
    if (event instanceof DeletionStarted) {
      e.phase = Phase.DELETING;
      e.revision = revision + 1;
      e.removedNodes = Set.of();
      e.releasesConfirmed = Set.of();
      return e.build();
    }
    if (event instanceof RevisionReissued r) {
      Map<String, DesiredState> now = desiredStates();
      return e.build().reconfigured(now, Set.of(r.nodeId()));
    }
    if (event instanceof LostNodeReturned r) {
      Set<String> lost = new TreeSet<>(healing.lostNodes());
      lost.remove(r.nodeId());
      e.healing = new Healing(healing.failover(), healing.rebuilds(), healing.marks(), healing.rebuildingTags(),
          healing.promotions(), lost, healing.retired(), healing.deferred(), healing.abandoned());
      return e.build();
    }
    if (event instanceof AbandonedReplacementReleased r) {
      Map<String, ReplicaPlacement> abandoned = new TreeMap<>(healing.abandoned());
      abandoned.remove(r.tag());
      e.healing = new Healing(healing.failover(), healing.rebuilds(), healing.marks(), healing.rebuildingTags(),
          healing.promotions(), healing.lostNodes(), healing.retired(), healing.deferred(), abandoned);
      return e.build();
    }
    if (event instanceof FailoverDeferred d) {
      e.healing = new Healing(healing.failover(), healing.rebuilds(), healing.marks(), healing.rebuildingTags(),
          healing.promotions(), healing.lostNodes(), healing.retired(), Optional.of(d), healing.abandoned());
      return e.build();
    }
    if (event instanceof NodeDrained d) {
      if (draining.getOrDefault(d.nodeId(), Long.MAX_VALUE) <= d.revision()) {
        e.draining().remove(d.nodeId());
      }
      return e.build();
    }
    if (event instanceof NodeRemoved r) {
      e.removedNodes().add(r.nodeId());
      return e.build();
    }
    if (event instanceof ReleaseConfirmed r) {
      e.releasesConfirmed().add(r.target());
      return e.build();
    }
    if (event instanceof VolumeDeleted) {
      return absent();
    }
    if (event instanceof GrowRequested g) {
      e.growRound = Optional.of(new GrowRound(g.newSizeBytes(), g.extentBytes(), g.members(), Set.of(), List.of()));
      return e.build();
    }
    if (event instanceof GrowAnswered a) {
      GrowRound g = growRound.orElseThrow();
      Set<String> answered = new TreeSet<>(g.answered());
      answered.add(a.member());
      List<String> refusals = new ArrayList<>(g.refusals());
      a.refusal().ifPresent(why -> refusals.add(a.member() + ": " + why));
      e.growRound = Optional.of(new GrowRound(g.newSizeBytes(), g.extentBytes(), g.members(), answered, refusals));
      return e.build();
    }
    if (event instanceof GrowRefused) {
      e.growRound = Optional.empty();
      return e.build();
    }
    if (event instanceof GrowStarted g) {
      VolumePlacement p = placement.orElseThrow();
      List<ReplicaPlacement> grown = p.replicas().stream().map(r -> new ReplicaPlacement(r.leg(), r.replica(),
          r.diskId(), r.nodeId(), r.rack(), r.zone(), r.fabricAddress(), r.offsetBytes(), g.extentBytes(), r.generation())).toList();
      Map<String, DesiredState> before = desiredStates();
      e.placement = Optional.of(new VolumePlacement(grown, p.controllers()));
      e.growingToBytes = g.newSizeBytes();
      e.growRound = Optional.empty();
      return e.build().reconfigured(before);
    }
    if (event instanceof GrowCompleted) {
      VolumeSpec s = spec.orElseThrow();
      Map<String, DesiredState> before = desiredStates();
      e.spec = Optional.of(new VolumeSpec(s.name(), growingToBytes, s.layout()));
      e.growingToBytes = 0;
      return e.build().reconfigured(before);
    }
    if (event instanceof FailoverStep f) {
      return applyFailover(e, f.event());
    }
    if (event instanceof RebuildStep r) {
      return applyRebuild(e, r.lostTag(), r.event());
    }
    if (event instanceof StandbyAdded a) {
      Map<String, DesiredState> before = desiredStates();
      VolumePlacement p = placement.orElseThrow();
      List<ControllerPlacement> controllers = new ArrayList<>(p.controllers());
      controllers.add(a.controller());
      e.placement = Optional.of(new VolumePlacement(p.replicas(), controllers));
      return e.build().reconfigured(before);
    }
    if (event instanceof StandbyRetired r) {
      Map<String, DesiredState> before = desiredStates();
      VolumePlacement p = placement.orElseThrow();
      e.placement = Optional.of(new VolumePlacement(p.replicas(), p.controllers().stream()
          .filter(c -> !(c.nodeId().equals(r.nodeId()) && c.role() == io.toma.topology.ControllerRole.STANDBY))
          .toList()));
      return e.build().reconfigured(before);
    }
    if (event instanceof ReplacementPlaced r) {
      Map<String, DesiredState> before = desiredStates();
      VolumePlacement p = placement.orElseThrow();
      List<ReplicaPlacement> members = new ArrayList<>();
      for (ReplicaPlacement m : p.replicas()) {
        members.add(m.tag().equals(r.lostTag()) ? r.replacement() : m);
      }
      e.placement = Optional.of(new VolumePlacement(members, p.controllers()));
      Set<String> rebuilding = new TreeSet<>(healing.rebuildingTags());
      rebuilding.add(r.replacement().tag());
      Map<String, ReplicaPlacement> retired = new TreeMap<>(healing.retired());
      p.replicas().stream().filter(m -> m.tag().equals(r.lostTag())).findFirst()
          .ifPresent(old -> retired.put(r.lostTag(), old));
      e.healing = new Healing(healing.failover(), healing.rebuilds(), healing.marks(), rebuilding, healing.promotions(),
          healing.lostNodes(), retired, healing.deferred(), healing.abandoned());
      VolumeRecord next = e.build().reconfigured(before);
      return next.marked("attach:" + r.lostTag(), next.revision());
    }
    throw new IllegalArgumentException("unknown event " + event);
  }

  /** A volume being created: its spec, namespace and first epoch, no placement round yet. */
  private static VolumeRecord started(VolumeSpec spec, String namespaceUuid) {
    Edit e = new Edit(absent());
    e.phase = Phase.PLACING;
    e.spec = Optional.of(spec);
    e.namespaceUuid = namespaceUuid;
    e.epoch = 1;
    e.placing = Optional.of(PlacementRound.none());
    return e.build();
  }

  private VolumeRecord applyFailover(Edit e, Failover.Event event) {
    if (event instanceof Failover.Detected d) {
      e.healing = new Healing(Optional.of(Failover.State.of(d)), healing.rebuilds(), healing.marks(),
          healing.rebuildingTags(), healing.promotions(), healing.lostNodes(), healing.retired(), Optional.empty(), healing.abandoned());
      return e.build();
    }
    Failover.State next = healing.failover().orElseThrow().apply(event);
    int promotions = healing.promotions() + (event instanceof Failover.PromotionRequested ? 1 : 0);
    e.healing = new Healing(Optional.of(next), healing.rebuilds(), healing.marks(), healing.rebuildingTags(), promotions, healing.lostNodes(), healing.retired(), healing.deferred(), healing.abandoned());
    if (event instanceof Failover.EpochBumped b) {
      e.epoch = b.epoch();
      return e.build();
    }
    if (event instanceof Failover.FencingRequested) {
      // The lost controller leaves the placement: every disk node's allow-lists drop its host NQN
      // at the new epoch (the agent fences when the epoch rises); the standby stays a standby.
      Map<String, DesiredState> before = desiredStates();
      VolumePlacement p = placement.orElseThrow();
      e.placement = Optional.of(new VolumePlacement(p.replicas(), p.controllers().stream()
          .filter(c -> !c.nodeId().equals(next.failedController())).toList()));
      // Every disk node asked to fence gets the new revision, even when its objects look the same
      // (a failover after one that already dropped the controller): its Applied is the confirmation.
      VolumeRecord fenced = e.build().reconfigured(before, next.fencePending());
      return fenced.marked("fence", fenced.revision());
    }
    if (event instanceof Failover.PromotionRequested pr) {
      Map<String, DesiredState> before = desiredStates();
      VolumePlacement p = placement.orElseThrow();
      e.placement = Optional.of(new VolumePlacement(p.replicas(), p.controllers().stream()
          .map(c -> c.nodeId().equals(pr.standby())
              ? new ControllerPlacement(c.nodeId(), io.toma.topology.ControllerRole.ACTIVE, c.fabricAddress(),
                  c.hostNqn(), c.serviceId(), c.anaGroup(), c.cntlidMin(), c.cntlidMax())
              : c)
          .toList()));
      VolumeRecord promoted = e.build().reconfigured(before);
      return promoted.marked("promote", promoted.revision());
    }
    return e.build();
  }

  private VolumeRecord applyRebuild(Edit e, String lostTag, Rebuild.Event event) {
    Map<String, Rebuild.State> rebuilds = new TreeMap<>(healing.rebuilds());
    Rebuild.State next = event instanceof Rebuild.MemberLost m
        ? Rebuild.State.of(m)
        : rebuilds.get(lostTag).apply(event);
    rebuilds.put(lostTag, next);
    Set<String> rebuilding = new TreeSet<>(healing.rebuildingTags());
    boolean inSyncNow = event instanceof Rebuild.InSync;
    if (inSyncNow) {
      // the replacement is in sync: its slot loses "rebuild" (a reload dm-raid accepts as is)
      placement.ifPresent(p -> p.replicas().stream()
          .filter(m -> m.leg() == next.lost().leg().leg() && m.replica() == next.lost().slot())
          .forEach(m -> rebuilding.remove(m.tag())));
    }
    Map<String, ReplicaPlacement> retired = new TreeMap<>(healing.retired());
    if (inSyncNow) {
      retired.remove(lostTag); // the old member's devices go now that no table uses them
    }
    Map<String, ReplicaPlacement> abandoned = new TreeMap<>(healing.abandoned());
    if (event instanceof Rebuild.ReplacementAbandoned a && placement.isPresent() && retired.containsKey(lostTag)) {
      // The replacement was lost before it was in sync: the lost member takes its slot back (still
      // lost, "- -" in the raid1) until a new replacement is placed; the abandoned one leaves.
      Map<String, DesiredState> before = desiredStates();
      ReplicaPlacement old = retired.remove(lostTag);
      List<ReplicaPlacement> members = new ArrayList<>();
      for (ReplicaPlacement m : placement.get().replicas()) {
        if (m.tag().equals(a.extent().extent()) && m.diskId().equals(a.extent().disk())) {
          abandoned.put(m.tag(), m);
          rebuilding.remove(m.tag());
          members.add(old);
        } else {
          members.add(m);
        }
      }
      e.placement = Optional.of(new VolumePlacement(members, placement.get().controllers()));
      e.healing = new Healing(healing.failover(), rebuilds, healing.marks(), rebuilding, healing.promotions(),
          healing.lostNodes(), retired, healing.deferred(), abandoned);
      return e.build().reconfigured(before);
    }
    e.healing = new Healing(healing.failover(), rebuilds, healing.marks(), rebuilding, healing.promotions(),
        healing.lostNodes(), retired, healing.deferred(), abandoned);
    if (inSyncNow) {
      Map<String, DesiredState> before = desiredStates();
      VolumeRecord next2 = e.build().reconfigured(before);
      return next2.marked("detach:" + lostTag, next2.revision());
    }
    return e.build();
  }

  private VolumeRecord marked(String mark, long atRevision) {
    Map<String, Long> marks = new TreeMap<>(healing.marks());
    marks.put(mark, atRevision);
    Edit e = new Edit(this);
    e.healing = new Healing(healing.failover(), healing.rebuilds(), marks, healing.rebuildingTags(), healing.promotions(), healing.lostNodes(), healing.retired(), healing.deferred(), healing.abandoned());
    return e.build();
  }

  private static PlacementRound refused(PlacementRound r, String why, Optional<String> disk, Optional<String> node) {
    List<String> refusedNow = new ArrayList<>(r.refusedThisAttempt());
    refusedNow.add(why);
    List<String> all = new ArrayList<>(r.refusals());
    all.add(why);
    Set<String> disks = new TreeSet<>(r.excludedDisks());
    disk.ifPresent(disks::add);
    Set<String> nodes = new TreeSet<>(r.excludedNodes());
    node.ifPresent(nodes::add);
    return new PlacementRound(r.attempt(), r.expected(), r.controllerOrder(), r.addresses(), r.granted(), r.slots(),
        refusedNow, disks, nodes, all);
  }

  /** Bump the revision and give it to every one of {@code nodes}, the only nodes the volume touches. */
  private VolumeRecord firstRevisionFor(Set<String> nodes) {
    long next = revision + 1;
    Map<String, Long> desired = new TreeMap<>();
    nodes.forEach(node -> desired.put(node, next));
    Map<String, Long> applied = new TreeMap<>(appliedRevisions);
    applied.keySet().retainAll(nodes);
    Edit e = new Edit(this);
    e.revision = next;
    e.desiredRevisions = desired;
    e.appliedRevisions = applied;
    return e.build();
  }

  /** Bump the revision and give it to every node whose desired state differs from {@code before}. */
  private VolumeRecord reconfigured(Map<String, DesiredState> before) {
    return reconfigured(before, Set.of());
  }

  /** As above, and every node of {@code forced} the volume still touches gets the new revision too. */
  private VolumeRecord reconfigured(Map<String, DesiredState> before, Set<String> forced) {
    long next = revision + 1;
    Map<String, Long> desired = new TreeMap<>(desiredRevisions);
    Map<String, DesiredState> now = desiredStates();
    now.forEach((node, state) -> {
      if (!state.equals(before.get(node)) || forced.contains(node)) {
        desired.put(node, next);
      }
    });
    // A node the volume no longer touches (a lost controller, a disk node whose members were all
    // lost or replaced) owes nothing any more.
    // Nobody else would ever tell it to drop them: it is sent Remove at this revision until it
    // confirms (a lost node too, should it come back holding them).
    Map<String, Long> drain = new TreeMap<>(draining);
    Set<String> dropped = new TreeSet<>(before.keySet());
    dropped.addAll(desired.keySet());
    dropped.removeAll(now.keySet());
    dropped.forEach(node -> drain.put(node, next));
    drain.keySet().removeAll(now.keySet());
    desired.keySet().retainAll(now.keySet());
    Map<String, Long> applied = new TreeMap<>(appliedRevisions);
    applied.keySet().retainAll(now.keySet());
    Edit e = new Edit(this);
    e.draining = drain;
    e.revision = next;
    e.desiredRevisions = desired;
    e.appliedRevisions = applied;
    return e.build();
  }

  // ---- queries ----

  public VolumeDesign design() {
    VolumeSpec s = spec.orElseThrow();
    Set<String> missing = new TreeSet<>();
    lostMembers().forEach(m -> missing.add(m.tag()));
    return new VolumeDesign(s.name(), epoch, VolumeGeometry.of(s), s.layout().replicas(), namespaceUuid,
        placement.orElseThrow(), attachments, missing, MemberSuspicion.withReadding(healing.rebuildingTags(), suspects, missing),
        List.copyOf(healing.retired().values()), healing.lostNodes());
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

  /**
   * Nodes behind that are not lost: what the volume visibly waits for. A lost node that keeps a
   * role (a standby on a node that died with an unsynced replacement) may never answer; it is
   * still sent its revision, but the volume does not show Provisioning for it, as
   * {@link #nodesDraining()} leaves lost nodes aside.
   */
  public Set<String> nodesAwaited() {
    Set<String> out = nodesBehind();
    out.removeAll(healing.lostNodes());
    return out;
  }

  /**
   * Nodes still asked to remove the volume's objects, lost ones aside (they may never answer; a
   * lost node that comes back is still sent {@code Remove}).
   */
  public Set<String> nodesDraining() {
    Set<String> out = new TreeSet<>(draining.keySet());
    out.removeAll(healing.lostNodes());
    return out;
  }

  /** Nodes that still hold objects of a deleting volume. */
  public Set<String> nodesNotRemoved() {
    Set<String> pending = new TreeSet<>(placement.map(VolumePlacement::nodes).orElse(Set.of()));
    pending.addAll(draining.keySet());
    pending.removeAll(removedNodes);
    return pending;
  }

  public VolumeState visibleState() {
    return switch (phase) {
      case ABSENT, PLACING -> VolumeState.PROVISIONING;
      case DELETING -> VolumeState.DELETING;
      case PLACED -> healing.failingOver() || !lostMembers().isEmpty() || !hasActiveController() || !suspects.isEmpty()
          ? VolumeState.DEGRADED
          : !activeRebuilds().isEmpty() ? VolumeState.REBUILDING
          : nodesAwaited().isEmpty() && nodesDraining().isEmpty() ? VolumeState.ONLINE
          // a rebuild's last steps (the old member leaving the tables) are still the rebuild
          : healing.rebuilds().values().stream().anyMatch(r -> r.stage() == Rebuild.Stage.IN_SYNC
              || r.stage() == Rebuild.Stage.OLD_EXTENT_RELEASED) ? VolumeState.REBUILDING
          : VolumeState.PROVISIONING;
    };
  }

  /**
   * Rebuilds copying data, by lost member tag. Once the replacement is in sync the copies are
   * whole again: the old extent's release, which waits for its node to confirm it dropped the
   * slice (maybe for good, if that node never returns), does not keep the volume Rebuilding.
   */
  public Map<String, Rebuild.State> activeRebuilds() {
    Map<String, Rebuild.State> out = new TreeMap<>();
    healing.rebuilds().forEach((tag, r) -> {
      if (r.stage() != Rebuild.Stage.DONE && r.stage() != Rebuild.Stage.MEMBER_LOST
          && r.stage() != Rebuild.Stage.REPLACEMENT_REQUESTED && r.stage() != Rebuild.Stage.IN_SYNC
          && r.stage() != Rebuild.Stage.OLD_EXTENT_RELEASED) {
        out.put(tag, r);
      }
    });
    return out;
  }

  /** The lowest sync percent of the rebuilds under way (empty when none is). */
  public Optional<Integer> syncPercent() {
    return activeRebuilds().values().stream().map(Rebuild.State::syncPercent).min(Integer::compare);
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
    if (healing.deferred().isPresent()) {
      FailoverDeferred d = healing.deferred().get();
      return Optional.of("failing over from " + d.nodeId() + " once it must have fenced itself (" + d.cause() + ")");
    }
    if (healing.failingOver()) {
      Failover.State f = healing.failover().orElseThrow();
      return Optional.of("failing over from " + f.failedController() + " (" + f.stage().name().toLowerCase()
          .replace('_', ' ') + ", epoch " + f.epoch() + "): " + f.cause());
    }
    if (!hasActiveController()) {
      return Optional.of("no active controller" + healing.failover().flatMap(Failover.State::outcome)
          .map(o -> ": " + o).orElse(""));
    }
    List<ReplicaPlacement> lost = lostMembers();
    if (!lost.isEmpty()) {
      return Optional.of(lost.size() + " member(s) lost: " + String.join(", ",
          lost.stream().map(m -> m.tag() + " on " + m.diskId() + " (" + lostDisks.get(m.diskId()) + ")").toList()));
    }
    if (!suspects.isEmpty()) {
      return Optional.of(MemberSuspicion.describe(suspects));
    }
    Map<String, Rebuild.State> rebuilding = activeRebuilds();
    if (!rebuilding.isEmpty()) {
      return Optional.of("rebuilding " + String.join(", ", rebuilding.entrySet().stream()
          .map(r -> r.getKey() + " (" + r.getValue().reason() + ") " + r.getValue().syncPercent() + "%").toList()));
    }
    Set<String> behind = nodesAwaited();
    if (behind.isEmpty() && !nodesDraining().isEmpty()) {
      return Optional.of("waiting for " + String.join(", ", nodesDraining()) + " to remove the volume's objects");
    }
    String growing = growingToBytes > 0 ? "growing to " + growingToBytes + " bytes; " : "";
    return behind.isEmpty() ? Optional.empty() : Optional.of(growing
        + "waiting for " + String.join(", ", behind.stream()
            .map(n -> n + " to apply revision " + desiredRevisions.get(n)).toList()));
  }

  /**
   * Lost nodes that came back: they confirmed the removal of the volume's objects (no longer
   * draining) and hold nothing of it (no member, controller, retired or abandoned replacement).
   */
  public Set<String> returnedLostNodes() {
    Set<String> out = new TreeSet<>();
    for (String node : healing.lostNodes()) {
      boolean holds = placement.map(p -> p.nodes().contains(node)).orElse(false)
          || healing.retired().values().stream().anyMatch(m -> m.nodeId().equals(node))
          || healing.abandoned().values().stream().anyMatch(m -> m.nodeId().equals(node));
      if (!draining.containsKey(node) && !holds) {
        out.add(node);
      }
    }
    return out;
  }

  private boolean hasActiveController() {
    return placement.map(p -> p.controllers().stream()
        .anyMatch(c -> c.role() == io.toma.topology.ControllerRole.ACTIVE)).orElse(false);
  }

  public List<ReplicaPlacement> lostMembers() {
    return placement.map(p -> p.replicas().stream().filter(r -> lostDisks.containsKey(r.diskId())).toList())
        .orElse(List.of());
  }
}
