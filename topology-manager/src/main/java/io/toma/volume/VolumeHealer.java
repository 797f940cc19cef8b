package io.toma.volume;

import io.toma.disk.PhysicalDisk;
import io.toma.healing.Failover;
import io.toma.healing.Rebuild;
import io.toma.healing.Refs.DiskRef;
import io.toma.healing.Refs.ExtentRef;
import io.toma.healing.Refs.LegRef;
import io.toma.healing.Refs.MemberRef;
import io.toma.healing.RepairScheduler;
import io.toma.node.ControllerNode;
import io.toma.placement.DiskPlacer;
import io.toma.placement.MemberSlot;
import io.toma.placement.PlacementOutcome;
import io.toma.placement.PlacementRequest;
import io.toma.topology.ControllerPlacement;
import io.toma.topology.ControllerRole;
import io.toma.topology.DiskFacts;
import io.toma.topology.NodeFacts;
import io.toma.topology.ReplicaPlacement;
import io.toma.topology.TomaEvent;
import io.toma.topology.VolumePlacement;
import io.toma.volume.VolumeDecider.Steps;
import io.toma.volume.VolumeRecord.Phase;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.stream.Collectors;

/**
 * The healing half of {@link VolumeDecider}: it maps faults and confirmations onto the
 * {@link Failover} and {@link Rebuild} stage machines, persists what they emit (wrapped in
 * {@link VolumeRecord.FailoverStep} / {@link VolumeRecord.RebuildStep}), and turns their actions
 * into {@link Outbound} messages. Pure, like the decider.
 *
 * <p>Confirmations: a step that changed nodes' desired states records the revision it gave them
 * ({@link VolumeRecord.Healing#marks()}); a node's Applied at or above it is the confirmation (the
 * fence at a disk node, the promotion at the standby, the attach at the active controller).
 */
final class VolumeHealer {
  private VolumeHealer() {}

  // ---- faults in ----

  static void onNodeLost(Steps s, String nodeId, String reason) {
    VolumeRecord state = s.state;
    if (state.phase() != Phase.PLACED || state.healing().lostNodes().contains(nodeId)) {
      return;
    }
    VolumePlacement placement = state.placement().orElseThrow();
    // A retired member (replaced, its old extent not released yet) counts: raid1 usually fails a
    // dead node's member before the node's loss arrives, and until the node is known lost the
    // active keeps connecting to that member (docs/failures.md, "Rack lost"). So does a node that
    // holds nothing any more but still owes the removal of an old slice (the replacement was in
    // sync before the loss arrived): unnoted, the volume would wait for a dead node's answer.
    boolean uses = placement.nodes().contains(nodeId)
        || state.healing().retired().values().stream().anyMatch(r -> r.nodeId().equals(nodeId))
        || state.draining().containsKey(nodeId)
        || state.healing().failover().map(f -> !f.stage().finished()
            && (f.fencePending().contains(nodeId) || f.eligibleStandbys().contains(nodeId))).orElse(false);
    if (!uses) {
      return;
    }
    s.emit(new VolumeRecord.NodeLostNoted(nodeId, reason));
    s.publish(TomaEvent.FAULT_DETECTED, "node " + nodeId + " lost (" + reason + ")");
    if (state.healing().failingOver()) {
      failover(s, new Failover.NodeUnreachable(nodeId));
    }
    boolean active = placement.controllers().stream()
        .anyMatch(c -> c.nodeId().equals(nodeId) && c.role() == ControllerRole.ACTIVE);
    if (active && !s.state.healing().failingOver()) {
      String cause = "node " + nodeId + " lost (" + reason + ")";
      if (holdsMembers(placement, s.state, nodeId)) {
        s.emit(new VolumeRecord.FailoverDeferred(nodeId,
            s.ctx.nowMillis() + s.ctx.healing().selfFenceTimeout().toMillis(), cause));
      } else {
        startFailover(s, nodeId, cause);
      }
    }
    membersLostOn(s, nodeId, "node " + nodeId + " lost (" + reason + ")");
    StandbyReplacement.check(s);
  }

  /** Whether a (converged) node holds members of the volume, current or being replaced, on its own disks. */
  private static boolean holdsMembers(VolumePlacement placement, VolumeRecord state, String nodeId) {
    return placement.replicas().stream().anyMatch(r -> r.nodeId().equals(nodeId))
        || state.healing().retired().values().stream().anyMatch(r -> r.nodeId().equals(nodeId));
  }

  /** Every member on {@code nodeId} is lost: mark each disk, start one rebuild per member. */
  static void membersLostOn(Steps s, String nodeId, String reason) {
    Set<String> disks = s.state.placement().orElseThrow().replicas().stream()
        .filter(r -> r.nodeId().equals(nodeId)).map(ReplicaPlacement::diskId)
        .collect(Collectors.toCollection(TreeSet::new));
    for (String disk : disks) {
      diskLost(s, disk, reason);
    }
  }

  static void diskLost(Steps s, String diskId, String reason) {
    VolumeRecord state = s.state;
    boolean uses = state.placement().map(p -> p.replicas().stream().anyMatch(r -> r.diskId().equals(diskId)))
        .orElse(false);
    if (state.phase() != Phase.PLACED || !uses || state.lostDisks().containsKey(diskId)) {
      return;
    }
    List<ReplicaPlacement> members = state.placement().orElseThrow().replicas().stream()
        .filter(r -> r.diskId().equals(diskId)).toList();
    s.emit(new VolumeRecord.MemberLost(diskId, reason));
    s.publish(TomaEvent.FAULT_DETECTED, "member(s) " + members.stream().map(ReplicaPlacement::tag).toList()
        + " on disk " + diskId + " lost (" + reason + ")");
    for (ReplicaPlacement m : members) {
      Optional<String> replacing = rebuildReplacedBy(s.state, m);
      if (replacing.isPresent()) {
        // a replacement lost before it was in sync: its rebuild starts over elsewhere
        rebuild(s, replacing.get(), new Rebuild.ReplacementLost(reason));
      } else if (!s.state.healing().rebuilds().containsKey(m.tag()) && replicasPerLeg(s.state) > 1) {
        Rebuild.Result r = Rebuild.start(memberRef(s.volumeId, m), reason, s.ctx.nowMillis());
        rebuildSteps(s, m.tag(), r);
      }
    }
    schedule(s);
  }

  /** The rebuild (by lost tag) whose replacement, not yet in sync, is {@code m}. */
  private static Optional<String> rebuildReplacedBy(VolumeRecord state, ReplicaPlacement m) {
    if (!state.healing().rebuildingTags().contains(m.tag())) {
      return Optional.empty();
    }
    return state.healing().rebuilds().entrySet().stream()
        .filter(r -> r.getValue().inFlight() && r.getValue().replacement()
            .map(x -> x.disk().equals(m.diskId()) && x.extent().equals(m.tag())).orElse(false))
        .map(Map.Entry::getKey).findFirst();
  }

  // ---- failover ----

  static void startFailover(Steps s, String failed, String cause) {
    VolumeRecord state = s.state;
    VolumePlacement p = state.placement().orElseThrow();
    List<String> standbys = p.controllers().stream()
        .filter(c -> c.role() == ControllerRole.STANDBY && !state.healing().lostNodes().contains(c.nodeId()))
        .map(ControllerPlacement::nodeId).toList();
    Set<String> diskNodes = p.replicas().stream().filter(r -> !state.lostDisks().containsKey(r.diskId()))
        .map(ReplicaPlacement::nodeId).collect(Collectors.toCollection(TreeSet::new));
    Failover.Result r = Failover.start(new Failover.Start(s.volumeId, failed, state.epoch(), standbys, diskNodes, cause),
        s.ctx.nowMillis(), s.ctx.healing(), s.ctx.overrides());
    failoverSteps(s, r);
  }

  static void failover(Steps s, Failover.Input input) {
    Optional<Failover.State> f = s.state.healing().failover();
    if (f.isEmpty() || f.get().stage().finished()) {
      return;
    }
    failoverSteps(s, Failover.decide(f.get(), input, s.ctx.nowMillis(), s.ctx.healing(), s.ctx.overrides()));
  }

  private static void failoverSteps(Steps s, Failover.Result r) {
    for (Failover.Event e : r.events()) {
      s.emit(new VolumeRecord.FailoverStep(e));
      s.publish(TomaEvent.REPAIR_STEP, "failover: " + describe(e));
    }
    for (Failover.Action a : r.actions()) {
      if (a instanceof Failover.FenceOldController || a instanceof Failover.PromoteStandby) {
        // the FencingRequested / PromotionRequested events already gave the nodes new revisions
        continue;
      }
      if (a instanceof Failover.TreatSlicesAsLost t) {
        membersLostOn(s, t.diskNode(), t.reason());
      } else if (a instanceof Failover.PlaceNewStandby place) {
        placeStandby(s, place.excludedNodes());
      } else if (a instanceof Failover.ReportUnavailable u) {
        s.publish(TomaEvent.VOLUME_STATE, "volume unavailable: " + u.reason());
      }
    }
    VolumeDecider.sendPending(s);
    if (s.state.healing().failover().map(f -> f.stage() == Failover.Stage.DONE).orElse(false)) {
      schedule(s); // rebuilds waited for an active controller to attach to
    }
  }

  private static String describe(Failover.Event e) {
    String name = e.getClass().getSimpleName();
    if (e instanceof Failover.Detected d) {
      return name + " (" + d.cause() + ")";
    }
    if (e instanceof Failover.EpochBumped b) {
      return name + " to " + b.epoch();
    }
    if (e instanceof Failover.FencingRequested f) {
      return name + " at " + f.diskNodes();
    }
    if (e instanceof Failover.FenceConfirmed c) {
      return name + " by " + c.node();
    }
    if (e instanceof Failover.FenceAbandoned a) {
      return name + " for " + a.node() + ": " + a.reason();
    }
    if (e instanceof Failover.PromotionRequested p) {
      return name + " of " + p.standby() + " at epoch " + p.epoch();
    }
    if (e instanceof Failover.Promoted p) {
      return name + " " + p.standby() + " (ANA optimized)";
    }
    if (e instanceof Failover.Done d) {
      return name + ": " + d.note();
    }
    if (e instanceof Failover.Unavailable u) {
      return name + ": " + u.reason();
    }
    return name;
  }

  private static void placeStandby(Steps s, Set<String> excluded) {
    VolumeRecord state = s.state;
    Set<String> controllers = state.placement().orElseThrow().controllers().stream().map(ControllerPlacement::nodeId)
        .collect(Collectors.toSet());
    Optional<NodeFacts> node = s.ctx.capacity().nodes().stream()
        .filter(NodeFacts::canHostControllers)
        .filter(n -> !n.cordoned() && !excluded.contains(n.nodeId()) && !controllers.contains(n.nodeId())
            && !state.healing().lostNodes().contains(n.nodeId()))
        .sorted(java.util.Comparator.comparingInt(NodeFacts::hostedControllers).thenComparing(NodeFacts::nodeId))
        .findFirst();
    if (node.isEmpty()) {
      failover(s, new Failover.NoStandbyPlaced("no controller node left for a standby"));
      return;
    }
    s.send(new Outbound.RequestStandbySlot(node.get().nodeId()));
  }

  static void onStandbySlot(Steps s, VolumeInput.StandbySlotAnswered msg) {
    Optional<Failover.State> f = s.state.healing().failover();
    if (withoutController(s.state) && msg.reply().orElse(null) instanceof ControllerNode.SlotGranted granted) {
      // a failover found no standby to promote: the new one is promoted by a fresh failover
      addStandby(s, granted);
      startFailover(s, lastFailed(s.state), "no active controller");
      return;
    }
    if (StandbyReplacement.onSlot(s, msg)) {
      return;
    }
    if (f.isEmpty() || f.get().stage() != Failover.Stage.STANDBY_PLACEMENT_REQUESTED) {
      boolean controller = s.state.placement().orElseThrow().controllers().stream()
          .anyMatch(c -> c.nodeId().equals(msg.nodeId()));
      if (msg.reply().orElse(null) instanceof ControllerNode.SlotGranted && !controller) {
        // nobody waits for it any more (a repeated ask for a node that is a controller keeps its slot)
        s.send(new Outbound.ReleaseControllerSlot(msg.nodeId(), ""));
      }
      return;
    }
    if (msg.reply().orElse(null) instanceof ControllerNode.SlotGranted granted) {
      addStandby(s, granted);
      failover(s, new Failover.StandbyPlaced(granted.node().nodeId()));
    } else {
      Set<String> excluded = new TreeSet<>(f.get().fenceAbandoned());
      excluded.add(f.get().failedController());
      excluded.add(msg.nodeId());
      placeStandby(s, excluded);
    }
  }

  static void addStandby(Steps s, ControllerNode.SlotGranted granted) {
    NodeFacts node = granted.node();
    int highest = s.state.placement().orElseThrow().controllers().stream().mapToInt(ControllerPlacement::cntlidMax)
        .max().orElse(0);
    s.emit(new VolumeRecord.StandbyAdded(new ControllerPlacement(node.nodeId(), ControllerRole.STANDBY,
        node.fabricAddress(), node.hostNqn(), granted.serviceId(), VolumeDecider.VOLUME_ANA_GROUP, highest + 1,
        highest + VolumeDecider.CNTLID_BLOCK)));
  }

  /**
   * The controller the last failover fenced, to fence again in a fresh one; "none" once that node
   * is a controller of the volume again (back from a loss and chosen as the new standby).
   */
  private static String lastFailed(VolumeRecord state) {
    String failed = state.healing().failover().map(Failover.State::failedController).orElse("none");
    boolean placedAgain = state.placement().orElseThrow().controllers().stream().anyMatch(c -> c.nodeId().equals(failed));
    return placedAgain ? "none" : failed;
  }

  /** Placed, no failover under way, and no active controller (a failover had no standby to promote). */
  private static boolean withoutController(VolumeRecord state) {
    return state.phase() == Phase.PLACED && !state.healing().failingOver() && activeController(state).isEmpty();
  }

  /**
   * A volume left without an active controller gets one: a live standby is promoted by a fresh
   * failover (which fences the old controller again at a new epoch), or a standby is placed first.
   */
  private static void ensureController(Steps s) {
    if (!withoutController(s.state)) {
      return;
    }
    VolumeRecord state = s.state;
    boolean standby = state.placement().orElseThrow().controllers().stream()
        .anyMatch(c -> c.role() == ControllerRole.STANDBY && !state.healing().lostNodes().contains(c.nodeId()));
    if (standby) {
      startFailover(s, lastFailed(state), "no active controller");
    } else {
      placeStandby(s, Set.of());
    }
  }

  // ---- confirmations from agents ----

  static void onApplied(Steps s, String nodeId, long revision) {
    VolumeRecord.Healing h = s.state.healing();
    h.failover().ifPresent(f -> {
      if (f.stage() == Failover.Stage.FENCING_REQUESTED && f.fencePending().contains(nodeId)
          && revision >= h.marks().getOrDefault("fence", Long.MAX_VALUE)) {
        failover(s, new Failover.FenceAck(nodeId, f.epoch()));
      } else if (f.stage() == Failover.Stage.PROMOTION_REQUESTED && f.promotionTarget().orElse("").equals(nodeId)
          && revision >= h.marks().getOrDefault("promote", Long.MAX_VALUE)) {
        failover(s, new Failover.PromotionAck(nodeId, f.epoch()));
      }
    });
    String active = activeController(s.state);
    if (nodeId.equals(active)) {
      for (Map.Entry<String, Rebuild.State> r : new TreeMap<>(s.state.healing().rebuilds()).entrySet()) {
        if (r.getValue().stage() == Rebuild.Stage.REPLACEMENT_GRANTED
            && revision >= s.state.healing().marks().getOrDefault("attach:" + r.getKey(), Long.MAX_VALUE)) {
          rebuild(s, r.getKey(), new Rebuild.AttachApplied(r.getValue().lost().slot()));
        }
      }
    }
    onOldMemberConfirmed(s);
  }

  /**
   * An old member counts as removed (and its extent may be released) only once the active no
   * longer uses it <em>and</em> the node that held its slice confirmed it dropped it: the node
   * applied a state without it, or removed the volume. A node that is merely out of sight may come
   * back still holding the slice, so until it answers the extent stays granted.
   */
  static void onOldMemberConfirmed(Steps s) {
    for (ReplicaPlacement m : new ArrayList<>(s.state.healing().abandoned().values())) {
      if (nodeDropped(s.state, m.nodeId())) {
        s.emit(new VolumeRecord.AbandonedReplacementReleased(m.tag()));
        Set<String> keep = heldTags(s.state, m.diskId());
        keep.remove(m.tag());
        s.send(new Outbound.ReleaseExtents(m.diskId(), keep, ""));
      }
    }
    for (Map.Entry<String, Rebuild.State> r : new TreeMap<>(s.state.healing().rebuilds()).entrySet()) {
      Rebuild.State st = r.getValue();
      if (st.stage() == Rebuild.Stage.IN_SYNC && !st.oldDetached() && oldMemberGone(s.state, r.getKey(), st)) {
        rebuild(s, r.getKey(), new Rebuild.OldMemberRemoved());
      }
    }
  }

  private static boolean oldMemberGone(VolumeRecord state, String lostTag, Rebuild.State st) {
    long mark = state.healing().marks().getOrDefault("detach:" + lostTag, Long.MAX_VALUE);
    if (state.appliedRevisions().getOrDefault(activeController(state), 0L) < mark) {
      return false;
    }
    return nodeDropped(state, st.lost().extent().node());
  }

  /** Whether a node applied a desired state that no longer holds a slice taken out of it, or removed the volume. */
  private static boolean nodeDropped(VolumeRecord state, String node) {
    if (state.desiredRevisions().containsKey(node)) {
      // its desired state no longer holds the old slice (since the loss or the detach): in sync means gone
      return !state.nodesBehind().contains(node) && !state.healing().lostNodes().contains(node);
    }
    return !state.draining().containsKey(node);
  }

  static void onRaidStatus(Steps s, VolumeInput.RaidStatus status) {
    if (!status.nodeId().equals(activeController(s.state))) {
      return;
    }
    failedMembers(s, status);
    for (Map.Entry<String, Rebuild.State> r : new TreeMap<>(s.state.healing().rebuilds()).entrySet()) {
      Rebuild.State st = r.getValue();
      if ((st.stage() != Rebuild.Stage.ATTACHED && st.stage() != Rebuild.Stage.SYNCING)
          || !VolumeNames.legDm(s.volumeId, st.lost().leg().leg()).equals(status.dmName())
          || st.lost().slot() >= status.health().length()) {
        continue;
      }
      char c = status.health().charAt(st.lost().slot());
      if (c == 'A') {
        rebuild(s, r.getKey(), new Rebuild.SyncComplete());
      } else if (c == 'a' && status.totalSectors() > 0) {
        rebuild(s, r.getKey(), new Rebuild.SyncProgress((int) (status.syncedSectors() * 100 / status.totalSectors())));
      }
    }
  }

  /**
   * A member the active's raid1 marked failed ('D': I/O errors, a link down) is a suspect
   * ({@link MemberSuspicion}): re-added while the grace window runs, lost only after it. Only a
   * report about the table the active holds now says a member failed (it applied its desired
   * revision), and only of members neither lost nor rebuilding, so a slot that now holds a
   * replacement is not mistaken for the member it replaced.
   */
  private static void failedMembers(Steps s, VolumeInput.RaidStatus status) {
    VolumeRecord state = s.state;
    if (state.healing().lostNodes().contains(status.nodeId()) || state.healing().failingOver()) {
      return; // a controller that was itself cut off: what it saw says nothing of the members
    }
    boolean current = !state.nodesBehind().contains(status.nodeId());
    VolumePlacement p = state.placement().orElseThrow();
    int legs = state.spec().orElseThrow().layout().legs();
    for (int leg = 0; leg < legs; leg++) {
      if (!VolumeNames.legDm(s.volumeId, leg).equals(status.dmName())) {
        continue;
      }
      final int l = leg;
      List<ReplicaPlacement> members = p.replicas().stream().filter(m -> m.leg() == l).toList();
      if (members.size() == status.health().length()) {
        MemberSuspicion.onLegReport(s, status.nodeId(), members, status.health(), current);
      }
    }
  }

  // ---- rebuilds ----

  static void rebuild(Steps s, String lostTag, Rebuild.Input input) {
    Rebuild.State st = s.state.healing().rebuilds().get(lostTag);
    if (st == null) {
      return;
    }
    rebuildSteps(s, lostTag, Rebuild.decide(st, input, s.ctx.overrides()));
  }

  private static void rebuildSteps(Steps s, String lostTag, Rebuild.Result r) {
    for (Rebuild.Event e : r.events()) {
      s.emit(new VolumeRecord.RebuildStep(lostTag, e));
      if (!(e instanceof Rebuild.Syncing)) {
        s.publish(TomaEvent.REPAIR_STEP, "rebuild of " + lostTag + ": " + e.getClass().getSimpleName()
            + (e instanceof Rebuild.ReplacementRefused rr ? " (" + rr.reason() + ")" : ""));
      }
    }
    for (Rebuild.Action a : r.actions()) {
      if (a instanceof Rebuild.RequestReplacement) {
        placeReplacement(s, lostTag);
      } else if (a instanceof Rebuild.AttachReplacement) {
        VolumeDecider.sendPending(s); // ReplacementPlaced already gave the nodes their revisions
      } else if (a instanceof Rebuild.ReleaseExtent rel) {
        if (s.state.healing().abandoned().containsKey(rel.extent().extent())) {
          onOldMemberConfirmed(s); // an abandoned replacement: released once its node dropped it
        } else {
          release(s, lostTag, rel.extent());
        }
      }
    }
  }

  private static void release(Steps s, String lostTag, ExtentRef extent) {
    Set<String> keep = heldTags(s.state, extent.disk());
    keep.remove(extent.extent());
    Rebuild.State st = s.state.healing().rebuilds().get(lostTag);
    boolean old = st != null && st.lost().extent().equals(extent);
    s.send(new Outbound.ReleaseExtents(extent.disk(), keep, old ? "rebuild:" + lostTag : ""));
  }

  static void onReleaseAnswered(Steps s, String lostTag, boolean ok) {
    Rebuild.State st = s.state.healing().rebuilds().get(lostTag);
    if (st != null && ok) {
      rebuild(s, lostTag, new Rebuild.ExtentReleaseConfirmed(st.lost().extent()));
    }
  }

  /** Start what the caps allow, least redundancy first (never during a failover: no active to attach to). */
  static void schedule(Steps s) {
    VolumeRecord state = s.state;
    if (state.phase() != Phase.PLACED || state.healing().failingOver() || activeController(state).isEmpty()) {
      return;
    }
    VolumePlacement p = state.placement().orElseThrow();
    List<RepairScheduler.PendingRepair> pending = new ArrayList<>();
    List<List<DiskRef>> inFlight = new ArrayList<>();
    Map<String, RepairScheduler.PendingRepair> byTag = new TreeMap<>();
    for (Map.Entry<String, Rebuild.State> r : state.healing().rebuilds().entrySet()) {
      Rebuild.State st = r.getValue();
      int leg = st.lost().leg().leg();
      List<ReplicaPlacement> legMembers = p.replicas().stream().filter(m -> m.leg() == leg).toList();
      List<DiskRef> sources = legMembers.stream()
          .filter(m -> !state.lostDisks().containsKey(m.diskId()) && !state.healing().rebuildingTags().contains(m.tag()))
          .map(m -> new DiskRef(m.nodeId(), m.diskId())).toList();
      if (st.pending() && refusedAgainAlike(s, r.getKey(), st)) {
        continue; // still unplaceable for the same reason: nothing to start, nothing to persist
      }
      if (st.pending()) {
        long bytes = p.replicas().stream().filter(m -> m.tag().equals(r.getKey()))
            .mapToLong(ReplicaPlacement::lengthBytes).findFirst().orElse(0);
        RepairScheduler.PendingRepair repair = new RepairScheduler.PendingRepair(st.lost().leg(), st.lost().slot(),
            replicasPerLeg(state), sources.size(), sources, bytes);
        pending.add(repair);
        byTag.put(r.getKey(), repair);
      } else if (st.inFlight()) {
        List<DiskRef> touches = new ArrayList<>(sources);
        st.replacement().ifPresent(x -> touches.add(x.diskRef()));
        inFlight.add(touches);
      }
    }
    if (pending.isEmpty()) {
      return;
    }
    RepairScheduler.Schedule schedule = RepairScheduler.schedule(pending, RepairScheduler.Load.of(inFlight),
        s.ctx.healing());
    for (RepairScheduler.PendingRepair start : schedule.start()) {
      byTag.forEach((tag, repair) -> {
        if (repair.equals(start)) {
          rebuild(s, tag, new Rebuild.Begin());
        }
      });
    }
  }

  private static void placeReplacement(Steps s, String lostTag) {
    VolumeRecord state = s.state;
    VolumePlacement p = state.placement().orElseThrow();
    Optional<ReplicaPlacement> lost = p.replicas().stream().filter(m -> m.tag().equals(lostTag)).findFirst();
    if (lost.isEmpty()) {
      rebuild(s, lostTag, new Rebuild.Refused("member " + lostTag + " is no longer in the placement"));
      return;
    }
    ReplicaPlacement m = lost.get();
    PlacementOutcome outcome = replacementFor(s.volumeId, state, s.ctx, m);
    if (outcome instanceof PlacementOutcome.Refused refused) {
      rebuild(s, lostTag, new Rebuild.Refused(refused.message()));
      return;
    }
    DiskFacts disk = ((PlacementOutcome.Chosen) outcome).members().get(0).disk();
    // A new generation per attempt: a replacement abandoned earlier (its node may still hold it)
    // never shares its tag, and so its devices and NQNs, with the next one.
    int attempts = Optional.ofNullable(state.healing().rebuilds().get(lostTag)).map(Rebuild.State::attempts).orElse(1);
    int generation = m.generation() + Math.max(1, attempts);
    String tag = new ReplicaPlacement(m.leg(), m.replica(), disk.diskId(), disk.nodeId(), disk.rack(), disk.zone(), "",
        0, 0, generation).tag();
    s.send(new Outbound.RequestReplacementExtent(lostTag, disk, tag, m.lengthBytes(), generation));
  }

  /** Where the lost member {@code m} would be placed now (a pure look at the capacity view). */
  private static PlacementOutcome replacementFor(String volumeId, VolumeRecord state, DecisionContext ctx,
      ReplicaPlacement m) {
    VolumePlacement p = state.placement().orElseThrow();
    var level = state.spec().orElseThrow().layout().level();
    Set<String> survivorsDomains = p.replicas().stream()
        .filter(o -> o.leg() == m.leg() && !o.tag().equals(m.tag()) && !state.lostDisks().containsKey(o.diskId()))
        .map(o -> level.domainOf(o.nodeId(), o.rack(), o.zone())).collect(Collectors.toCollection(TreeSet::new));
    Set<String> excludedDisks = new TreeSet<>(state.lostDisks().keySet());
    p.replicas().stream().filter(o -> o.leg() == m.leg()).forEach(o -> excludedDisks.add(o.diskId()));
    Set<String> excludedNodes = new TreeSet<>(state.healing().lostNodes());
    excludedNodes.add(m.nodeId());
    ctx.capacity().nodes().stream().filter(NodeFacts::cordoned).forEach(n -> excludedNodes.add(n.nodeId()));
    Set<String> known = ctx.capacity().nodes().stream().map(NodeFacts::nodeId).collect(Collectors.toSet());
    List<DiskFacts> candidates = ctx.capacity().disks().stream()
        .filter(d -> known.contains(d.nodeId()) && !state.healing().lostNodes().contains(d.nodeId())
            && !d.nodeId().equals(m.nodeId()))
        .toList();
    PlacementRequest request = new PlacementRequest(volumeId, List.of(new MemberSlot(m.leg(), m.replica())),
        m.lengthBytes(), replicasPerLeg(state), level, Map.of(m.leg(), survivorsDomains), excludedDisks, true);
    Map<String, Long> repairBytes = candidates.stream().collect(Collectors.toMap(DiskFacts::diskId,
        DiskFacts::repairBytes, Long::sum));
    return DiskPlacer.forReprotection(ctx.settings().spareReserveFraction(), repairBytes)
        .place(request, candidates, excludedNodes);
  }

  /**
   * Whether a rebuild refused before would be refused again for the same reason now. Such a
   * retry changes nothing and is not persisted (a rebuild that cannot be placed wrote a pair of
   * events every tick, forever); it is tried again on every tick until the reason changes.
   */
  private static boolean refusedAgainAlike(Steps s, String lostTag, Rebuild.State st) {
    VolumeRecord state = s.state;
    if (st.lastRefusal().isEmpty()) {
      return false;
    }
    Optional<ReplicaPlacement> lost = state.placement().orElseThrow().replicas().stream()
        .filter(m -> m.tag().equals(lostTag)).findFirst();
    return lost.isPresent() && replacementFor(s.volumeId, state, s.ctx, lost.get()) instanceof PlacementOutcome.Refused refused
        && refused.message().equals(st.lastRefusal().get());
  }

  static void onReplacementAnswered(Steps s, VolumeInput.ReplacementAnswered msg) {
    Rebuild.State st = s.state.healing().rebuilds().get(msg.lostTag());
    DiskFacts d = msg.disk();
    if (msg.reply().orElse(null) instanceof PhysicalDisk.Granted granted) {
      ExtentRef extent = new ExtentRef(d.nodeId(), d.diskId(), granted.extent().tag());
      if (st == null || st.stage() != Rebuild.Stage.REPLACEMENT_REQUESTED) {
        s.send(new Outbound.ReleaseExtents(d.diskId(), otherTags(s, d.diskId(), granted.extent().tag()), ""));
        return;
      }
      if (s.state.lostDisks().containsKey(d.diskId()) || s.state.healing().lostNodes().contains(d.nodeId())) {
        // the disk or its node was lost while the grant was on its way: nothing was built there yet
        s.send(new Outbound.ReleaseExtents(d.diskId(), otherTags(s, d.diskId(), granted.extent().tag()), ""));
        rebuild(s, msg.lostTag(), new Rebuild.Refused(d.diskId() + " was lost meanwhile"));
        return;
      }
      ReplicaPlacement lost = s.state.placement().orElseThrow().replicas().stream()
          .filter(m -> m.tag().equals(msg.lostTag())).findFirst().orElseThrow();
      String address = s.ctx.capacity().nodes().stream().filter(n -> n.nodeId().equals(d.nodeId()))
          .map(NodeFacts::fabricAddress).findFirst().orElse("");
      ReplicaPlacement replacement = new ReplicaPlacement(lost.leg(), lost.replica(), d.diskId(), d.nodeId(), d.rack(),
          d.zone(), address, granted.extent().offsetBytes(), granted.extent().lengthBytes(), msg.generation());
      Rebuild.Result r = Rebuild.decide(st, new Rebuild.Granted(extent), s.ctx.overrides());
      for (Rebuild.Event e : r.events()) {
        s.emit(new VolumeRecord.RebuildStep(msg.lostTag(), e));
        s.publish(TomaEvent.REPAIR_STEP, "rebuild of " + msg.lostTag() + ": " + e.getClass().getSimpleName()
            + " on " + d.diskId());
      }
      s.emit(new VolumeRecord.ReplacementPlaced(msg.lostTag(), replacement));
      VolumeDecider.sendPending(s);
    } else if (st != null) {
      String why = msg.reply().orElse(null) instanceof PhysicalDisk.Refused refused ? refused.reason() : "no answer";
      rebuild(s, msg.lostTag(), new Rebuild.Refused(d.diskId() + ": " + why));
    }
  }

  private static Set<String> otherTags(Steps s, String diskId, String tag) {
    Set<String> keep = heldTags(s.state, diskId);
    keep.remove(tag);
    return keep;
  }

  /**
   * This volume's extents on a disk that must stay granted: its members there, and every old member
   * replaced but not yet released (its node may still hold the slice until it confirms).
   */
  static Set<String> heldTags(VolumeRecord state, String diskId) {
    Set<String> keep = state.placement().map(p -> p.replicas().stream().filter(m -> m.diskId().equals(diskId))
        .map(ReplicaPlacement::tag).collect(Collectors.toCollection(TreeSet::new))).orElse(new TreeSet<>());
    state.healing().rebuilds().values().stream()
        .filter(r -> !r.oldReleased() && r.stage() != Rebuild.Stage.DONE)
        .map(r -> r.lost().extent()).filter(x -> x.disk().equals(diskId)).forEach(x -> keep.add(x.extent()));
    state.healing().abandoned().values().stream().filter(m -> m.diskId().equals(diskId))
        .forEach(m -> keep.add(m.tag()));
    return keep;
  }

  // ---- recovery and time ----

  static void onRecovered(Steps s) {
    VolumeRecord.Healing h = s.state.healing();
    h.failover().filter(f -> !f.stage().finished()).ifPresent(f ->
        failoverSteps(s, Failover.resume(f, s.ctx.nowMillis(), s.ctx.healing(), s.ctx.overrides())));
    for (Map.Entry<String, Rebuild.State> r : new TreeMap<>(h.rebuilds()).entrySet()) {
      if (r.getValue().stage() != Rebuild.Stage.DONE) {
        rebuildSteps(s, r.getKey(), Rebuild.resume(r.getValue(), s.ctx.overrides()));
      }
    }
  }

  static void onTick(Steps s) {
    s.state.healing().deferred().filter(d -> s.ctx.nowMillis() >= d.notBeforeMillis())
        .ifPresent(d -> startFailover(s, d.nodeId(), d.cause()));
    failover(s, new Failover.Tick());
    if (s.state.phase() == Phase.PLACED) {
      s.state.returnedLostNodes().forEach(n -> s.emit(new VolumeRecord.LostNodeReturned(n)));
    }
    ensureController(s);
    StandbyReplacement.check(s);
    if (s.state.phase() == Phase.PLACED) {
      MemberSuspicion.onTick(s);
      schedule(s);
    }
  }

  // ---- helpers ----

  static String activeController(VolumeRecord state) {
    return state.placement().flatMap(p -> p.controllers().stream().filter(c -> c.role() == ControllerRole.ACTIVE)
        .map(ControllerPlacement::nodeId).findFirst()).orElse("");
  }

  private static int replicasPerLeg(VolumeRecord state) {
    return state.spec().orElseThrow().layout().replicas();
  }

  static MemberRef memberRef(String volumeId, ReplicaPlacement m) {
    return new MemberRef(new LegRef(volumeId, m.leg()), m.replica(), new ExtentRef(m.nodeId(), m.diskId(), m.tag()));
  }
}
