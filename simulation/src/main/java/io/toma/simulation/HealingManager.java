package io.toma.simulation;

import io.toma.disk.Extent;
import io.toma.healing.Failover;
import io.toma.healing.HealingSettings;
import io.toma.healing.Rebuild;
import io.toma.healing.Refs.ExtentRef;
import io.toma.healing.Refs.LegRef;
import io.toma.healing.Refs.MemberRef;
import io.toma.healing.SafetyOverrides;
import io.toma.kernel.Names;
import io.toma.placement.ControllerOutcome;
import io.toma.placement.ControllerPlacer;
import io.toma.placement.DiskPlacer;
import io.toma.placement.MemberSlot;
import io.toma.placement.PlacementOutcome;
import io.toma.placement.PlacementRequest;
import io.toma.simulation.ManagerEvent.DiskDeclaredDead;
import io.toma.simulation.ManagerEvent.ExtentGranted;
import io.toma.simulation.ManagerEvent.ExtentReleased;
import io.toma.simulation.ManagerEvent.FailoverStep;
import io.toma.simulation.ManagerEvent.NodeAcked;
import io.toma.simulation.ManagerEvent.NodeDeclaredBack;
import io.toma.simulation.ManagerEvent.NodeDeclaredLost;
import io.toma.simulation.ManagerEvent.NodeRemovedAck;
import io.toma.simulation.ManagerEvent.RebuildStep;
import io.toma.simulation.ManagerEvent.ReleaseDeferred;
import io.toma.simulation.ManagerEvent.StandbyAdded;
import io.toma.simulation.ManagerEvent.StandbyRemoved;
import io.toma.simulation.ManagerEvent.VolumeCreated;
import io.toma.simulation.ManagerState.Volume;
import io.toma.topology.ControllerPlacement;
import io.toma.topology.ControllerRole;
import io.toma.topology.DiskFacts;
import io.toma.topology.NodeFacts;
import io.toma.topology.ReplicaPlacement;
import io.toma.topology.VolumePlacement;
import io.toma.volume.VirtualDisk;
import io.toma.volume.VolumeGeometry;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.UUID;
import java.util.function.Consumer;
import java.util.function.Predicate;

/**
 * A manager shell over the healing core: it runs {@link Failover} and {@link Rebuild} exactly as
 * their contract says (persist the events, apply them, then perform the actions), places with
 * {@link DiskPlacer} and {@link ControllerPlacer}, allocates with the disks' {@code ExtentAllocator}
 * and derives node states with {@code DesiredStateBuilder}. It stands in for the VirtualDisk
 * decider until that lands; its journal is a plain list the world keeps across manager restarts.
 */
final class HealingManager implements ManagerShell {

  /** The gossip failure detector's delay: longer than self-fencing, so a cut-off minority stops first. */
  static final long NODE_LOSS_AFTER_MILLIS = 4_000;
  static final long RESEND_MILLIS = 1_000;
  static final long RETRY_MILLIS = 2_000;

  private final ClusterShape shape;
  private final HealingSettings settings;
  private final SafetyOverrides overrides;
  private final List<ManagerEvent> journal;
  private ManagerState state;

  // ---- memory only: lost on restart ----
  private final Map<String, Long> unreachableSince = new TreeMap<>();
  private final Map<String, Long> lastSent = new HashMap<>();
  private final Map<String, Long> lastSentAt = new HashMap<>();
  private final Map<String, Long> lastTry = new HashMap<>();
  private final Set<String> forceSend = new TreeSet<>();
  private final Map<String, Long> declaredLostAt = new TreeMap<>();
  private Predicate<String> reachable = n -> true;

  HealingManager(ClusterShape shape, HealingSettings settings, SafetyOverrides overrides, List<ManagerEvent> journal) {
    this.shape = shape;
    this.settings = settings;
    this.overrides = overrides;
    this.journal = journal;
    this.state = replay();
  }

  private ManagerState replay() {
    ManagerState s = new ManagerState(shape);
    journal.forEach(s::apply);
    return s;
  }

  private void record(ManagerEvent event) {
    journal.add(event);
    state.apply(event);
  }

  // ---- creation ----

  @Override
  public void create(List<VolumeRequest> requests, long now, Consumer<Message> out) {
    for (VolumeRequest request : requests) {
      VolumeGeometry g = VolumeGeometry.of(request.spec());
      var layout = request.spec().layout();
      PlacementOutcome disks = DiskPlacer.greedyByFreeSpace(0.0).place(
          PlacementRequest.forNewVolume(request.volume(), layout.legs(), layout.replicas(), g.extentBytes(),
              layout.level(), Set.of()), diskFacts(Set.of()), Set.of());
      ControllerOutcome controllers = new ControllerPlacer().place(nodeFacts(), layout.standbyControllers(), Set.of());
      if (!(disks instanceof PlacementOutcome.Chosen chosen) || !(controllers instanceof ControllerOutcome.Chosen ctl)) {
        continue;
      }
      List<ReplicaPlacement> members = new ArrayList<>();
      for (PlacementOutcome.ChosenMember m : chosen.members()) {
        String tag = "l" + m.slot().leg() + "r" + m.slot().replica();
        ManagerState.Disk disk = state.disks.get(m.disk().diskId());
        Extent extent = disk.allocator.firstFit(request.volume(), tag, g.extentBytes()).orElseThrow();
        record(new ExtentGranted(disk.id, extent));
        ClusterShape.NodeSpec node = shape.node(disk.node);
        members.add(new ReplicaPlacement(m.slot().leg(), m.slot().replica(), disk.id, disk.node, node.rack(),
            node.zone(), node.address(), extent.offsetBytes(), extent.lengthBytes()));
      }
      List<ControllerPlacement> placed = new ArrayList<>();
      placed.add(controller(ctl.active(), ControllerRole.ACTIVE, 0));
      for (int i = 0; i < ctl.standbys().size(); i++) {
        placed.add(controller(ctl.standbys().get(i), ControllerRole.STANDBY, i + 1));
      }
      String uuid = UUID.nameUUIDFromBytes(("ns:" + request.volume()).getBytes(java.nio.charset.StandardCharsets.UTF_8)).toString();
      record(new VolumeCreated(request.volume(), request.spec(), uuid, new VolumePlacement(members, placed),
          List.of(request.hostNqn())));
    }
    flush(now, out);
  }

  private ControllerPlacement controller(NodeFacts node, ControllerRole role, int index) {
    return new ControllerPlacement(node.nodeId(), role, node.fabricAddress(), node.hostNqn(),
        state.nextServiceId(node.nodeId()), VirtualDisk.VOLUME_ANA_GROUP,
        1 + index * VirtualDisk.CNTLID_BLOCK, (index + 1) * VirtualDisk.CNTLID_BLOCK);
  }

  static String hostNqnOf(String node) {
    return Names.NQN_PREFIX + "node." + node;
  }

  private List<NodeFacts> nodeFacts() {
    Map<String, Integer> hosted = new TreeMap<>();
    state.volumes.values().forEach(v -> v.placement.controllers().forEach(c -> hosted.merge(c.nodeId(), 1, Integer::sum)));
    List<NodeFacts> out = new ArrayList<>();
    for (ClusterShape.NodeSpec n : shape.nodes()) {
      if (!eligible(n.id())) {
        continue;
      }
      Set<String> roles = new TreeSet<>();
      if (n.disk()) {
        roles.add(NodeFacts.ROLE_DISK);
      }
      if (n.controller()) {
        roles.add(NodeFacts.ROLE_CONTROLLER);
      }
      out.add(new NodeFacts(n.id(), roles, n.zone(), n.rack(), n.address(), hostNqnOf(n.id()), false,
          hosted.getOrDefault(n.id(), 0)));
    }
    return out;
  }

  private List<DiskFacts> diskFacts(Set<String> excludedNodes) {
    List<DiskFacts> out = new ArrayList<>();
    for (ManagerState.Disk d : state.disks.values()) {
      if (d.dead || excludedNodes.contains(d.node) || !eligible(d.node)) {
        continue;
      }
      ClusterShape.NodeSpec n = shape.node(d.node);
      out.add(new DiskFacts(d.id, d.node, n.zone(), n.rack(), d.allocator.sizeBytes(), d.allocator.freeBytes(), true));
    }
    return out;
  }

  /** A node may get new work when the manager sees it and it has applied everything it was told. */
  private boolean eligible(String node) {
    if (state.lostNodes.contains(node) || !reachable.test(node)) {
      return false;
    }
    for (Volume v : state.volumes.values()) {
      if (v.nodesBehind().contains(node) || v.leaving.containsKey(node)) {
        return false;
      }
    }
    return true;
  }

  // ---- reports ----

  @Override
  public void onMessage(Message.ToManager message, long now, Consumer<Message> out) {
    if (message instanceof Message.Applied a) {
      Volume v = state.volumes.get(a.volume());
      if (v != null && v.appliedRev.getOrDefault(a.node(), 0L) < a.revision()) {
        record(new NodeAcked(a.volume(), a.node(), a.revision()));
      }
    } else if (message instanceof Message.Removed r) {
      Volume v = state.volumes.get(r.volume());
      if (v != null && v.removedRev.getOrDefault(r.node(), 0L) < r.revision()) {
        record(new NodeRemovedAck(r.volume(), r.node(), r.revision()));
      }
    } else if (message instanceof Message.DiskLost d) {
      ManagerState.Disk disk = state.disks.get(d.disk());
      if (disk != null && !disk.dead) {
        record(new DiskDeclaredDead(d.disk(), d.reason()));
      }
    } else if (message instanceof Message.Registered r) {
      forceSend.add(r.node());
    } else if (message instanceof Message.RaidHealth h) {
      onRaidHealth(h, now, out);
    }
  }

  private void onRaidHealth(Message.RaidHealth h, long now, Consumer<Message> out) {
    Volume v = state.volumes.get(h.volume());
    if (v == null || v.active().isEmpty() || !v.active().get().nodeId().equals(h.node())
        || h.revision() < v.desiredRev.getOrDefault(h.node(), Long.MAX_VALUE)) {
      return; // a report about a table the controller no longer has
    }
    for (int slot = 0; slot < h.health().length(); slot++) {
      String tag = "l" + h.leg() + "r" + slot;
      Optional<ReplicaPlacement> member = v.placement.replicas().stream().filter(m -> m.tag().equals(tag)).findFirst();
      if (member.isPresent() && h.health().charAt(slot) == 'D') {
        memberLost(v, member.get(), "raid1 on " + h.node() + " marked it failed", now, out);
      }
    }
    for (Map.Entry<String, Rebuild.State> e : new ArrayList<>(v.rebuilds.entrySet())) {
      Rebuild.State r = e.getValue();
      if (!ManagerState.tagOf(e.getKey()).startsWith("l" + h.leg() + "r") || !r.inFlight()
          || r.stage().compareTo(Rebuild.Stage.ATTACHED) < 0) {
        continue;
      }
      if (h.inSync()) {
        rebuild(v, e.getKey(), Rebuild.decide(r, new Rebuild.SyncComplete(), overrides), now, out);
      } else if (h.percent() > r.syncPercent() && h.percent() < 100) {
        rebuild(v, e.getKey(), Rebuild.decide(r, new Rebuild.SyncProgress(h.percent()), overrides), now, out);
      }
    }
  }

  // ---- time ----

  @Override
  public void tick(long now, Predicate<String> reachable, Consumer<Message> out) {
    this.reachable = reachable;
    for (ClusterShape.NodeSpec n : shape.nodes()) {
      if (reachable.test(n.id())) {
        unreachableSince.remove(n.id());
        if (state.lostNodes.contains(n.id())) {
          record(new NodeDeclaredBack(n.id()));
          // It may have fenced itself meanwhile: it serves again only what it is sent again.
          forceSend.add(n.id());
        }
      } else {
        long since = unreachableSince.computeIfAbsent(n.id(), k -> now);
        if (now - since >= NODE_LOSS_AFTER_MILLIS && !state.lostNodes.contains(n.id())) {
          record(new NodeDeclaredLost(n.id()));
          declaredLostAt.put(n.id(), now);
        }
      }
    }
    for (String id : new ArrayList<>(state.volumes.keySet())) {
      progress(state.volumes.get(id), now, out);
    }
    for (ManagerState.Deferred d : new ArrayList<>(state.deferred)) {
      Volume v = state.volumes.get(d.volume());
      if (state.disks.get(d.disk()).dead || v.confirmed(d.node(), d.revision())) {
        record(new ExtentReleased(d.disk(), d.extent()));
      }
    }
    flush(now, out);
  }

  private void progress(Volume v, long now, Consumer<Message> out) {
    // Members on lost nodes or dead disks are lost.
    for (ReplicaPlacement m : v.placement.replicas()) {
      if (state.lostNodes.contains(m.nodeId())) {
        memberLost(v, m, "node " + m.nodeId() + " lost", now, out);
      } else if (state.disks.get(m.diskId()).dead) {
        memberLost(v, m, "disk " + m.diskId() + " dead", now, out);
      }
    }
    if (v.failoverRunning()) {
      Failover.State f = v.failover.get();
      for (String node : state.lostNodes) {
        if (f.fencePending().contains(node) || f.eligibleStandbys().contains(node)
            || f.promotionTarget().orElse("").equals(node)) {
          failover(v, Failover.decide(v.failover.get(), new Failover.NodeUnreachable(node), now, settings, overrides), now, out);
        }
      }
      f = v.failover.get();
      if (f.stage() == Failover.Stage.FENCING_REQUESTED) {
        for (String node : f.fencePending()) {
          if (v.confirmed(node, v.fenceRevision)) {
            failover(v, Failover.decide(v.failover.get(), new Failover.FenceAck(node, f.epoch()), now, settings, overrides), now, out);
          }
        }
      }
      f = v.failover.get();
      if (f.stage() == Failover.Stage.PROMOTION_REQUESTED && f.promotionTarget().isPresent()
          && v.confirmed(f.promotionTarget().get(), v.promotionRevision)) {
        failover(v, Failover.decide(f, new Failover.PromotionAck(f.promotionTarget().get(), f.epoch()), now, settings, overrides), now, out);
      }
      if (v.failoverRunning()) {
        failover(v, Failover.decide(v.failover.get(), new Failover.Tick(), now, settings, overrides), now, out);
      }
    } else {
      Optional<ControllerPlacement> active = v.active();
      if (active.isPresent() && state.lostNodes.contains(active.get().nodeId())) {
        // A converged controller writes through the members on its own disks too, which no disk
        // node can fence: fencing the others first would leave it acknowledging writes that land
        // on its own copy only. Wait until it must have stopped by itself (self-fence timeout
        // after it was downed), then fence and promote.
        String failed = active.get().nodeId();
        boolean ownMembers = state.disks.values().stream()
            .anyMatch(d -> d.node.equals(failed) && !d.allocator.ownedBy(v.id).isEmpty());
        long downedAt = declaredLostAt.computeIfAbsent(failed, k -> now);
        if (!ownMembers || now >= downedAt + settings.selfFenceTimeout().toMillis()) {
          startFailover(v, failed, "node " + failed + " lost", now, out);
        }
      } else if (active.isEmpty() && due("failover|" + v.id, now)) {
        startFailover(v, v.lastFailed, "no active controller", now, out);
      } else if (active.isPresent()) {
        for (ControllerPlacement s : v.standbys()) {
          if (state.lostNodes.contains(s.nodeId())) {
            record(new StandbyRemoved(v.id, s.nodeId()));
          }
        }
        if (v.standbys().size() < v.spec.layout().standbyControllers() && due("standby|" + v.id, now)) {
          chooseStandby(v, Set.of()).ifPresent(c -> record(new StandbyAdded(v.id, c)));
        }
      }
    }
    for (String key : new ArrayList<>(v.rebuilds.keySet())) {
      progressRebuild(v, key, now, out);
    }
  }

  private void startFailover(Volume v, String failed, String cause, long now, Consumer<Message> out) {
    List<String> standbys = v.standbys().stream().map(ControllerPlacement::nodeId)
        .filter(n -> !state.lostNodes.contains(n)).toList();
    if (standbys.isEmpty()) {
      Optional<ControllerPlacement> fresh = chooseStandby(v, Set.of(failed));
      if (fresh.isPresent()) {
        record(new StandbyAdded(v.id, fresh.get()));
        standbys = List.of(fresh.get().nodeId());
      }
    }
    Set<String> diskNodes = new TreeSet<>();
    v.placement.replicas().forEach(m -> diskNodes.add(m.nodeId()));
    Failover.Start start = new Failover.Start(v.id, failed.isEmpty() ? "none" : failed, v.epoch, standbys, diskNodes, cause);
    failover(v, Failover.start(start, now, settings, overrides), now, out);
  }

  private void progressRebuild(Volume v, String key, long now, Consumer<Message> out) {
    Rebuild.State r = v.rebuilds.get(key);
    switch (r.stage()) {
      case MEMBER_LOST -> {
        // Never replace the last copies of a leg: with no in-sync member left there is nothing to
        // rebuild from; the members must come back instead.
        if (hasHealthyPeer(v, ManagerState.tagOf(key)) && due("rebuild|" + v.id + "|" + key, now)) {
          rebuild(v, key, Rebuild.decide(r, new Rebuild.Begin(), overrides), now, out);
        }
      }
      case REPLACEMENT_GRANTED -> {
        Optional<ControllerPlacement> active = v.active();
        if (active.isPresent() && v.confirmed(active.get().nodeId(), v.attachedAt.getOrDefault(key, Long.MAX_VALUE))) {
          rebuild(v, key, Rebuild.decide(r, new Rebuild.AttachApplied(r.lost().slot()), overrides), now, out);
        }
      }
      default -> { }
    }
    r = v.rebuilds.get(key);
    if (r.inFlight() && r.replacement().isPresent()) {
      ExtentRef repl = r.replacement().get();
      if (state.lostNodes.contains(repl.node()) || state.disks.get(repl.disk()).dead) {
        rebuild(v, key, Rebuild.decide(r, new Rebuild.ReplacementLost("replacement on " + repl.node() + " lost"), overrides), now, out);
      }
    }
    r = v.rebuilds.get(key);
    if (!r.oldDetached() && r.stage().compareTo(Rebuild.Stage.REPLACEMENT_GRANTED) >= 0) {
      long dropped = v.droppedAt.getOrDefault(key, Long.MAX_VALUE);
      boolean controllerDone = v.active().map(a -> v.confirmed(a.nodeId(), dropped)).orElse(true);
      if (controllerDone && v.confirmed(r.lost().node(), dropped)) {
        rebuild(v, key, Rebuild.decide(r, new Rebuild.OldMemberRemoved(), overrides), now, out);
      }
    }
  }

  private boolean hasHealthyPeer(Volume v, String tag) {
    Set<String> lost = v.lostTags();
    Set<String> syncing = v.syncingTags();
    return v.placement.replicas().stream().anyMatch(m -> m.tag().startsWith(tag.substring(0, tag.indexOf('r') + 1))
        && !m.tag().equals(tag) && !lost.contains(m.tag()) && !syncing.contains(m.tag())
        && !state.lostNodes.contains(m.nodeId()) && !state.disks.get(m.diskId()).dead);
  }

  private boolean due(String key, long now) {
    Long last = lastTry.get(key);
    if (last != null && now - last < RETRY_MILLIS) {
      return false;
    }
    lastTry.put(key, now);
    return true;
  }

  // ---- the healing core's results ----

  private void failover(Volume v, Failover.Result result, long now, Consumer<Message> out) {
    result.events().forEach(e -> record(new FailoverStep(v.id, e)));
    for (Failover.Action action : result.actions()) {
      if (action instanceof Failover.TreatSlicesAsLost lost) {
        for (ReplicaPlacement m : v.placement.replicas()) {
          if (m.nodeId().equals(lost.diskNode())) {
            memberLost(v, m, lost.reason(), now, out);
          }
        }
      } else if (action instanceof Failover.PlaceNewStandby place) {
        Optional<ControllerPlacement> c = chooseStandby(v, place.excludedNodes());
        Failover.Input answer;
        if (c.isPresent()) {
          record(new StandbyAdded(v.id, c.get()));
          answer = new Failover.StandbyPlaced(c.get().nodeId());
        } else {
          answer = new Failover.NoStandbyPlaced("no controller node available");
        }
        failover(v, Failover.decide(v.failover.get(), answer, now, settings, overrides), now, out);
      }
      // FenceOldController and PromoteStandby: their desired states were derived when their
      // events were applied; flush() sends them. ReportUnavailable: the volume's reason says it.
    }
  }

  private Optional<ControllerPlacement> chooseStandby(Volume v, Set<String> excluded) {
    Set<String> skip = new TreeSet<>(excluded);
    v.placement.controllers().forEach(c -> skip.add(c.nodeId()));
    if (!v.lastFailed.isEmpty() && v.leaving.containsKey(v.lastFailed)) {
      skip.add(v.lastFailed);
    }
    ControllerOutcome outcome = new ControllerPlacer().place(nodeFacts(), 0, skip);
    if (!(outcome instanceof ControllerOutcome.Chosen chosen)) {
      return Optional.empty();
    }
    Set<Integer> usedBlocks = new TreeSet<>();
    v.placement.controllers().forEach(c -> usedBlocks.add(c.cntlidMin()));
    int index = 0;
    while (usedBlocks.contains(1 + index * VirtualDisk.CNTLID_BLOCK)) {
      index++;
    }
    NodeFacts n = chosen.active();
    return Optional.of(new ControllerPlacement(n.nodeId(), ControllerRole.STANDBY, n.fabricAddress(), n.hostNqn(),
        state.nextServiceId(n.nodeId()), VirtualDisk.VOLUME_ANA_GROUP, 1 + index * VirtualDisk.CNTLID_BLOCK,
        (index + 1) * VirtualDisk.CNTLID_BLOCK));
  }

  private void memberLost(Volume v, ReplicaPlacement m, String reason, long now, Consumer<Message> out) {
    ExtentRef extent = new ExtentRef(m.nodeId(), m.diskId(), v.id + "/" + m.tag() + "@" + m.offsetBytes());
    Optional<String> running = v.activeRebuild(m.tag());
    if (running.isPresent()) {
      Rebuild.State r = v.rebuilds.get(running.get());
      if (r.replacement().map(extent::equals).orElse(false) && r.inFlight()) {
        rebuild(v, running.get(), Rebuild.decide(r, new Rebuild.ReplacementLost(reason), overrides), now, out);
      }
      return;
    }
    String key = m.tag() + "@" + m.diskId() + ":" + m.offsetBytes();
    if (v.rebuilds.containsKey(key)) {
      return;
    }
    MemberRef ref = new MemberRef(new LegRef(v.id, m.leg()), m.replica(), extent);
    rebuild(v, key, Rebuild.start(ref, reason, now), now, out);
  }

  private void rebuild(Volume v, String key, Rebuild.Result result, long now, Consumer<Message> out) {
    result.events().forEach(e -> record(new RebuildStep(v.id, key, e)));
    for (Rebuild.Action action : result.actions()) {
      if (action instanceof Rebuild.RequestReplacement request) {
        rebuild(v, key, Rebuild.decide(v.rebuilds.get(key), placeReplacement(v, request.lost()), overrides), now, out);
      } else if (action instanceof Rebuild.ReleaseExtent release) {
        release(v, key, release.extent(), now, out);
      }
      // AttachReplacement: the placement changed when ReplacementGranted was applied.
    }
  }

  private Rebuild.Input placeReplacement(Volume v, MemberRef lost) {
    String tag = "l" + lost.leg().leg() + "r" + lost.slot();
    var layout = v.spec.layout();
    Set<String> inUse = new TreeSet<>();
    Set<String> lostTags = v.lostTags();
    for (ReplicaPlacement m : v.placement.replicas()) {
      if (m.leg() == lost.leg().leg() && !m.tag().equals(tag) && !lostTags.contains(m.tag())) {
        inUse.add(layout.level().domainOf(m.nodeId(), m.rack(), m.zone()));
      }
    }
    long extentBytes = VolumeGeometry.of(v.spec).extentBytes();
    PlacementRequest request = new PlacementRequest(v.id, List.of(new MemberSlot(lost.leg().leg(), lost.slot())),
        extentBytes, layout.replicas(), layout.level(), Map.of(lost.leg().leg(), inUse), Set.of(), true);
    PlacementOutcome outcome = DiskPlacer.greedyByFreeSpace(0.0).place(request, diskFacts(Set.of(lost.node())), Set.of());
    if (outcome instanceof PlacementOutcome.Refused refused) {
      return new Rebuild.Refused(refused.message());
    }
    String diskId = ((PlacementOutcome.Chosen) outcome).members().get(0).disk().diskId();
    ManagerState.Disk disk = state.disks.get(diskId);
    Optional<Extent> extent = disk.allocator.firstFit(v.id, tag, extentBytes);
    if (extent.isEmpty()) {
      return new Rebuild.Refused("disk " + diskId + " has no contiguous " + extentBytes + " bytes");
    }
    record(new ExtentGranted(diskId, extent.get()));
    return new Rebuild.Granted(new ExtentRef(disk.node, diskId, ManagerState.extentId(v.id, extent.get())));
  }

  /**
   * The lost member's own extent is released when the rebuild says so (its rule is the one under
   * test). Any other extent (a replacement given up) waits until its node confirmed the slice is
   * gone: a shell-side guard the rebuild machine does not spell out.
   */
  private void release(Volume v, String key, ExtentRef ref, long now, Consumer<Message> out) {
    ManagerState.Disk disk = state.disks.get(ref.disk());
    Optional<Extent> extent = disk.allocator.extents().stream()
        .filter(x -> ManagerState.extentId(v.id, x).equals(ref.extent())).findFirst();
    Rebuild.State r = v.rebuilds.get(key);
    if (ref.equals(r.lost().extent())) {
      extent.ifPresent(x -> record(new ExtentReleased(disk.id, x)));
      rebuild(v, key, Rebuild.decide(v.rebuilds.get(key), new Rebuild.ExtentReleaseConfirmed(ref), overrides), now, out);
    } else if (extent.isPresent()) {
      record(new ReleaseDeferred(v.id, disk.id, extent.get(), ref.node(), v.revision));
    }
  }

  // ---- sending ----

  /** Sends every node its newest state (or removal) once, and again every second while it lags. */
  private void flush(long now, Consumer<Message> out) {
    for (Volume v : state.volumes.values()) {
      v.desired.forEach((node, desired) -> {
        long rev = v.desiredRev.getOrDefault(node, 0L);
        if (forceSend.contains(node)
            || v.appliedRev.getOrDefault(node, 0L) < rev && shouldSend(v.id + "|" + node, rev, now)) {
          out.accept(new Message.Apply(node, v.id, rev, desired));
        }
      });
      v.leaving.forEach((node, rev) -> {
        if (forceSend.contains(node) || shouldSend(v.id + "|" + node, rev, now)) {
          out.accept(new Message.Remove(node, v.id, rev));
        }
      });
    }
    forceSend.clear();
  }

  private boolean shouldSend(String key, long rev, long now) {
    Long sent = lastSent.get(key);
    Long at = lastSentAt.get(key);
    if (sent != null && sent >= rev && at != null && now - at < RESEND_MILLIS) {
      return false;
    }
    lastSent.put(key, rev);
    lastSentAt.put(key, now);
    return true;
  }

  // ---- restart ----

  @Override
  public void restart(long now, Consumer<Message> out) {
    unreachableSince.clear();
    lastSent.clear();
    lastSentAt.clear();
    lastTry.clear();
    declaredLostAt.clear();
    state = replay();
    for (Volume v : state.volumes.values()) {
      if (v.failoverRunning()) {
        failover(v, Failover.resume(v.failover.get(), now, settings, overrides), now, out);
      }
      for (String key : new ArrayList<>(v.rebuilds.keySet())) {
        Rebuild.State r = v.rebuilds.get(key);
        if (r.stage() != Rebuild.Stage.DONE) {
          rebuild(v, key, Rebuild.resume(r, overrides), now, out);
        }
      }
    }
    flush(now, out);
  }

  // ---- views ----

  @Override
  public Map<String, VolumeView> volumes() {
    Map<String, VolumeView> out = new TreeMap<>();
    for (Volume v : state.volumes.values()) {
      out.put(v.id, new VolumeView(v.id, v.placement.controllers(), v.placement.replicas(), v.attachments,
          Map.copyOf(v.desired), Set.copyOf(v.leaving.keySet()), v.online(), v.lastRefusal().isPresent(), v.reason()));
    }
    return out;
  }

  @Override
  public Map<String, DiskView> disks() {
    Map<String, DiskView> out = new TreeMap<>();
    state.disks.values().forEach(d -> out.put(d.id, new DiskView(d.id, d.node, d.dead, d.allocator)));
    return out;
  }

  @Override
  public Set<String> downedNodes() {
    return Set.copyOf(state.lostNodes);
  }

  @Override
  public int repairsDone() {
    return state.volumes.values().stream().mapToInt(v -> v.failoversDone + v.rebuildsDone).sum();
  }
}
