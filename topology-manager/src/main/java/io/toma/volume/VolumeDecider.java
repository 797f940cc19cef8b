package io.toma.volume;

import io.toma.capacity.CapacityView;
import io.toma.disk.PhysicalDisk;
import io.toma.node.ControllerNode;
import io.toma.placement.ControllerOutcome;
import io.toma.placement.ControllerPlacer;
import io.toma.placement.DiskPlacer;
import io.toma.placement.MemberSlot;
import io.toma.placement.PlacementOutcome;
import io.toma.placement.PlacementRequest;
import io.toma.topology.ControllerPlacement;
import io.toma.topology.ControllerRole;
import io.toma.topology.FieldError;
import io.toma.topology.NodeFacts;
import io.toma.topology.ReplicaPlacement;
import io.toma.topology.VolumePlacement;
import io.toma.topology.VolumeSpec;
import io.toma.volume.Outbound.WaiterKind;
import io.toma.volume.VolumeRecord.Event;
import io.toma.volume.VolumeRecord.Phase;
import io.toma.volume.VolumeRecord.PlacementRound;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.stream.Collectors;

/**
 * Every decision of one volume, as a pure function: {@code decide(record, input, context)} returns
 * the events to persist, what to send once they are persisted, and the answer to the caller.
 *
 * <h2>How a shell drives it</h2>
 * <ol>
 *   <li>Map what arrived to a {@link VolumeInput} (keep any replyTo aside).
 *   <li>Call {@link #decide} with the current {@link VolumeRecord} and a {@link DecisionContext}
 *       (now, a fresh id, settings, the latest capacity snapshot, raid observations).
 *   <li>Persist {@link Decision#events()} in order, atomically; fold each with
 *       {@link VolumeRecord#apply} (the decision already did, so {@link Decision#after()} is the
 *       state the shell will hold).
 *   <li>Only then: answer the caller with {@link Decision#reply()} if present, and perform every
 *       {@link Decision#outbound()} in order, feeding each answer back as the input it names.
 *   <li>After recovering a journal, feed {@link VolumeInput.Recovered}; feed
 *       {@link VolumeInput.Tick} periodically (the resend interval).
 * </ol>
 *
 * <p>Deterministic: no clock, no random source, no hash-ordered iteration inside; the same record,
 * input and context give the same decision. The {@link VirtualDisk} actor and the seeded simulation
 * are two shells around this one function.
 */
public final class VolumeDecider {
  private VolumeDecider() {}

  /** ANA group of a volume on its controller ports (group 1 is nvmet's default group). */
  public static final int VOLUME_ANA_GROUP = 2;
  /** Each controller of a volume gets its own block of controller ids (nvmet attr_cntlid_min/max). */
  public static final int CNTLID_BLOCK = 1000;

  /**
   * The outcome of one decision.
   *
   * @param after the record once {@code events} are applied (what the shell holds next)
   */
  public record Decision(VolumeRecord after, List<Event> events, List<Outbound> outbound, Optional<VolumeReply> reply) {
    public Decision {
      events = List.copyOf(events);
      outbound = List.copyOf(outbound);
    }
  }

  public static Decision decide(String volumeId, VolumeRecord state, VolumeInput input, DecisionContext ctx) {
    Steps s = new Steps(volumeId, state, ctx);
    if (input instanceof VolumeInput.Create c) {
      onCreate(s, c.spec());
    } else if (input instanceof VolumeInput.Get g) {
      s.reply(s.state.phase() == Phase.ABSENT ? new VolumeReply.NotFound(volumeId) : s.found());
    } else if (input instanceof VolumeInput.Delete d) {
      onDelete(s);
    } else if (input instanceof VolumeInput.Attach a) {
      onAttachment(s, a.hostNqn(), true);
    } else if (input instanceof VolumeInput.Detach d) {
      onAttachment(s, d.hostNqn(), false);
    } else if (input instanceof VolumeInput.Resize r) {
      onResize(s, r.newSizeBytes());
    } else if (input instanceof VolumeInput.Recovered r) {
      onRecovered(s);
    } else if (input instanceof VolumeInput.Tick t) {
      onTick(s);
    } else if (input instanceof VolumeInput.CapacityArrived c) {
      onCapacity(s, c);
    } else if (input instanceof VolumeInput.ExtentAnswered a) {
      onExtentAnswered(s, a);
    } else if (input instanceof VolumeInput.SlotAnswered a) {
      onSlotAnswered(s, a);
    } else if (input instanceof VolumeInput.GrowAnswered a) {
      onGrowAnswered(s, a);
    } else if (input instanceof VolumeInput.ReleaseAnswered a) {
      onReleaseAnswered(s, a);
    } else if (input instanceof VolumeInput.Applied a) {
      onApplied(s, a.nodeId(), a.revision());
    } else if (input instanceof VolumeInput.ApplyFailed f) {
      s.log("warn", "node " + f.nodeId() + " failed to apply revision "
          + f.revision() + ": " + f.error() + "; Toma re-sends it");
    } else if (input instanceof VolumeInput.Removed r) {
      onRemoved(s, r.nodeId(), r.revision());
    } else if (input instanceof VolumeInput.RaidStatus r) {
      VolumeHealer.onRaidStatus(s, r);
    } else if (input instanceof VolumeInput.MemberLost m) {
      VolumeHealer.diskLost(s, m.diskId(), m.reason());
    } else if (input instanceof VolumeInput.NodeLost n) {
      VolumeHealer.onNodeLost(s, n.nodeId(), n.reason());
    } else if (input instanceof VolumeInput.NodeSeenAgain n) {
      onNodeSeenAgain(s, n.nodeId());
    } else if (input instanceof VolumeInput.Drain d) {
      VolumeHealer.onNodeLost(s, d.nodeId(), "drained by the operator");
    } else if (input instanceof VolumeInput.LinkLost l) {
      VolumeLinkHealer.onLinkLost(s, l);
    } else if (input instanceof VolumeInput.ControllerUnreachable u) {
      VolumeLinkHealer.onControllerUnreachable(s, u);
    } else if (input instanceof VolumeInput.ReplacementAnswered a) {
      VolumeHealer.onReplacementAnswered(s, a);
    } else if (input instanceof VolumeInput.StandbySlotAnswered a) {
      VolumeHealer.onStandbySlot(s, a);
    }
    if (s.state.phase() == Phase.PLACED && s.state.revision() > state.revision()) {
      sendPending(s); // whatever changed the nodes' desired states, they hear of it now
    }
    return s.decision();
  }

  // ---- create and placement ----

  private static void onCreate(Steps s, VolumeSpec spec) {
    Optional<FieldError> invalid = spec.validate();
    if (invalid.isPresent()) {
      s.reply(new VolumeReply.Invalid(invalid.get().field(), invalid.get().message()));
      return;
    }
    if (!spec.name().equals(s.volumeId)) {
      s.reply(new VolumeReply.Invalid("name", "name must be the volume id " + s.volumeId));
      return;
    }
    VolumeRecord state = s.state;
    switch (state.phase()) {
      case ABSENT -> {
        s.emit(new VolumeRecord.CreationStarted(spec, s.ctx.freshId()));
        s.send(new Outbound.FetchCapacity(1));
        // the caller is answered when placement ends: the shell keeps it as a CREATE waiter
      }
      case DELETING -> s.reply(new VolumeReply.Conflict("volume " + s.volumeId + " is being deleted"));
      default -> {
        if (!state.spec().orElseThrow().equals(spec)) {
          s.reply(new VolumeReply.Conflict(
              "volume " + s.volumeId + " exists with another spec: " + describe(state.spec().orElseThrow())));
        } else if (state.phase() == Phase.PLACED) {
          s.reply(s.found());
        }
      }
    }
  }

  /**
   * Whether the caller of a create that got no {@link Decision#reply()} must wait for the end of
   * placement (the shell then keeps it as a {@link WaiterKind#CREATE} waiter).
   */
  public static boolean createWaits(Decision decision) {
    return decision.reply().isEmpty() && decision.after().phase() == Phase.PLACING;
  }

  private static String describe(VolumeSpec spec) {
    return "sizeBytes=" + spec.sizeBytes() + ", legs=" + spec.layout().legs() + ", replicas="
        + spec.layout().replicas() + ", standbyControllers=" + spec.layout().standbyControllers()
        + ", failureDomain=" + spec.layout().level().label();
  }

  private static void onCapacity(Steps s, VolumeInput.CapacityArrived msg) {
    VolumeRecord state = s.state;
    PlacementRound round = state.placing().orElse(null);
    if (state.phase() != Phase.PLACING || round == null || msg.attempt() != round.attempt() + 1
        || (round.attempt() > 0 && !round.complete())) {
      return;
    }
    VolumeSpec spec = state.spec().orElseThrow();
    VolumeGeometry geometry = VolumeGeometry.of(spec);
    CapacityView.Snapshot snapshot = msg.snapshot();
    Set<String> cordoned = snapshot.nodes().stream().filter(NodeFacts::cordoned)
        .map(NodeFacts::nodeId).collect(Collectors.toCollection(TreeSet::new));
    Map<String, String> addresses = new TreeMap<>();
    snapshot.nodes().forEach(n -> addresses.put(n.nodeId(), n.fabricAddress()));
    PlacementRequest request = PlacementRequest.forNewVolume(s.volumeId, spec.layout().legs(),
        spec.layout().replicas(), geometry.extentBytes(), spec.layout().level(), round.excludedDisks());
    // A disk whose node has not registered yet has no address to export from: not a candidate.
    var known = snapshot.disks().stream().filter(d -> addresses.containsKey(d.nodeId())).toList();
    PlacementOutcome disks = DiskPlacer.forNewVolumes(s.ctx.settings().spareReserveFraction())
        .place(request, known, cordoned);
    if (disks instanceof PlacementOutcome.Refused refused) {
      abandon(s, refused.message());
      return;
    }
    ControllerOutcome controllers = new ControllerPlacer()
        .place(s.volumeId, snapshot.nodes(), spec.layout().standbyControllers(), round.excludedNodes());
    if (controllers instanceof ControllerOutcome.Refused refused) {
      abandon(s, refused.message());
      return;
    }
    List<PlacementOutcome.ChosenMember> members = ((PlacementOutcome.Chosen) disks).members();
    ControllerOutcome.Chosen chosen = (ControllerOutcome.Chosen) controllers;
    List<String> order = new ArrayList<>();
    order.add(chosen.active().nodeId());
    chosen.standbys().forEach(n -> order.add(n.nodeId()));
    Set<String> diskIds = members.stream().map(m -> m.disk().diskId()).collect(Collectors.toCollection(TreeSet::new));
    int attempt = msg.attempt();
    s.emit(new VolumeRecord.CandidatesChosen(attempt, diskIds, order, members.size() + order.size(), addresses));
    for (PlacementOutcome.ChosenMember m : members) {
      String tag = "l" + m.slot().leg() + "r" + m.slot().replica();
      s.send(new Outbound.RequestExtent(attempt, m.slot(), m.disk(), tag, geometry.extentBytes()));
    }
    for (int i = 0; i < order.size(); i++) {
      s.send(new Outbound.RequestControllerSlot(attempt, order.get(i), i == 0 ? ControllerRole.ACTIVE : ControllerRole.STANDBY));
    }
  }

  private static Optional<PlacementRound> currentRound(Steps s, int attempt) {
    return s.state.phase() == Phase.PLACING
        ? s.state.placing().filter(r -> r.attempt() == attempt && r.attempt() > 0 && !r.complete())
        : Optional.empty();
  }

  private static void onExtentAnswered(Steps s, VolumeInput.ExtentAnswered msg) {
    Optional<PlacementRound> round = currentRound(s, msg.attempt());
    if (round.isEmpty()) {
      // A late answer for an attempt that is over: the disk is in touchedDisks, so whatever it
      // granted is released when placement ends (kept only if the final placement uses it).
      return;
    }
    if (msg.reply().orElse(null) instanceof PhysicalDisk.Granted granted) {
      var d = msg.disk();
      MemberSlot slot = msg.slot();
      s.emit(new VolumeRecord.MemberGranted(msg.attempt(), new ReplicaPlacement(slot.leg(), slot.replica(), d.diskId(),
          d.nodeId(), d.rack(), d.zone(), round.get().addresses().getOrDefault(d.nodeId(), ""),
          granted.extent().offsetBytes(), granted.extent().lengthBytes())));
    } else {
      String why = msg.reply().orElse(null) instanceof PhysicalDisk.Refused refused ? refused.reason() : "no answer";
      s.emit(new VolumeRecord.MemberRefused(msg.attempt(), msg.disk().diskId(), why));
    }
    roundMaybeComplete(s);
  }

  private static void onSlotAnswered(Steps s, VolumeInput.SlotAnswered msg) {
    Optional<PlacementRound> round = currentRound(s, msg.attempt());
    if (round.isEmpty()) {
      return;
    }
    if (msg.reply().orElse(null) instanceof ControllerNode.SlotGranted granted) {
      int index = round.get().controllerOrder().indexOf(msg.nodeId());
      NodeFacts node = granted.node();
      s.emit(new VolumeRecord.ControllerGranted(msg.attempt(), new ControllerPlacement(node.nodeId(), msg.role(),
          node.fabricAddress(), node.hostNqn(), granted.serviceId(), VOLUME_ANA_GROUP, 1 + index * CNTLID_BLOCK,
          (index + 1) * CNTLID_BLOCK)));
    } else {
      String why = msg.reply().orElse(null) instanceof ControllerNode.SlotRefused refused ? refused.reason() : "no answer";
      s.emit(new VolumeRecord.ControllerRefused(msg.attempt(), msg.nodeId(), why));
    }
    roundMaybeComplete(s);
  }

  private static void roundMaybeComplete(Steps s) {
    PlacementRound r = s.state.placing().orElseThrow();
    if (!r.complete()) {
      return;
    }
    if (!r.refusedThisAttempt().isEmpty()) {
      if (r.attempt() >= s.ctx.settings().placementAttempts()) {
        abandon(s, "placement refused after " + r.attempt() + " attempt(s): " + String.join("; ", r.refusals()));
        return;
      }
      s.log("info", "placement attempt " + r.attempt() + " refused (" + String.join("; ", r.refusedThisAttempt())
          + "); Toma retries elsewhere");
      s.send(new Outbound.FetchCapacity(r.attempt() + 1));
      return;
    }
    List<ReplicaPlacement> replicas = new ArrayList<>(r.granted().values());
    List<ControllerPlacement> controllers = r.controllerOrder().stream().map(n -> r.slots().get(n)).toList();
    VolumePlacement placement = new VolumePlacement(replicas, controllers);
    VolumeRecord before = s.state;
    s.emit(new VolumeRecord.VolumePlaced(placement));
    releaseLeftovers(s, before, placement);
    s.send(new Outbound.UpdateIndex(true));
    sendPending(s);
    s.send(new Outbound.AnswerWaiters(WaiterKind.CREATE, s.found()));
    s.log("info", "placed on " + placement.nodes() + "; sending revision " + s.state.revision() + " to its nodes");
  }

  /** Extents and slots granted in abandoned attempts are given back; the placed ones are kept. */
  private static void releaseLeftovers(Steps s, VolumeRecord before, VolumePlacement placement) {
    for (String disk : before.touchedDisks()) {
      Set<String> keep = placement.replicas().stream().filter(r -> r.diskId().equals(disk))
          .map(ReplicaPlacement::tag).collect(Collectors.toCollection(TreeSet::new));
      s.send(new Outbound.ReleaseExtents(disk, keep, ""));
    }
    Set<String> controllerNodes = placement.controllers().stream().map(ControllerPlacement::nodeId)
        .collect(Collectors.toCollection(TreeSet::new));
    for (String node : before.touchedNodes()) {
      if (!controllerNodes.contains(node)) {
        s.send(new Outbound.ReleaseControllerSlot(node, ""));
      }
    }
  }

  private static void abandon(Steps s, String reason) {
    VolumeRecord before = s.state;
    s.emit(new VolumeRecord.CreationAbandoned(reason));
    for (String disk : before.touchedDisks()) {
      s.send(new Outbound.ReleaseExtents(disk, Set.of(), ""));
    }
    for (String node : before.touchedNodes()) {
      s.send(new Outbound.ReleaseControllerSlot(node, ""));
    }
    s.send(new Outbound.AnswerWaiters(WaiterKind.CREATE, new VolumeReply.PlacementFailed(reason)));
    s.log("info", "not created: " + reason);
  }

  // ---- attach / detach ----

  private static void onAttachment(Steps s, String hostNqn, boolean attach) {
    VolumeRecord state = s.state;
    if (state.phase() == Phase.ABSENT) {
      s.reply(new VolumeReply.NotFound(s.volumeId));
      return;
    }
    if (hostNqn == null || !hostNqn.startsWith("nqn.") || hostNqn.getBytes(StandardCharsets.UTF_8).length > 223
        || hostNqn.chars().anyMatch(ch -> ch <= ' ' || ch == '/')) {
      s.reply(new VolumeReply.Invalid("hostNqn", "hostNqn must start with 'nqn.', be at most 223 bytes, with no spaces or '/'"));
      return;
    }
    if (state.phase() != Phase.PLACED) {
      s.reply(new VolumeReply.Conflict("volume " + s.volumeId + " is " + state.visibleState().display().toLowerCase()
          + "; retry once it is placed"));
      return;
    }
    if (state.attachments().contains(hostNqn) == attach) {
      s.reply(s.found());
      return;
    }
    s.emit(attach ? new VolumeRecord.AttachmentAdded(hostNqn) : new VolumeRecord.AttachmentRemoved(hostNqn));
    sendPending(s);
    s.reply(s.found());
  }

  // ---- reports from agents ----

  /**
   * A node seen again gets a new revision of its desired state, so a self-fenced agent serves it
   * again (it ignores a replay of the revision it fenced at). Not while a failover is under way or
   * deferred: the failover gives every node it touches a new revision when its roles change, and
   * until then the node must stay fenced.
   */
  private static void onNodeSeenAgain(Steps s, String nodeId) {
    VolumeRecord state = s.state;
    if (state.phase() != Phase.PLACED || state.healing().failingOver() || state.healing().deferred().isPresent()
        || !state.desiredRevisions().containsKey(nodeId)) {
      return;
    }
    s.emit(new VolumeRecord.RevisionReissued(nodeId));
    s.log("info", "node " + nodeId + " seen again; its desired state is sent at revision " + s.state.revision()
        + " so a self-fenced agent serves it again");
  }

  private static void onApplied(Steps s, String nodeId, long revision) {
    VolumeRecord state = s.state;
    if (state.phase() != Phase.PLACED || revision <= state.appliedRevisions().getOrDefault(nodeId, 0L)
        || !state.desiredRevisions().containsKey(nodeId) || revision > state.revision()) {
      return;
    }
    s.emit(new VolumeRecord.NodeApplied(nodeId, revision));
    VolumeHealer.onApplied(s, nodeId, revision);
    if (s.state.growingToBytes() > 0 && s.state.nodesBehind().isEmpty()) {
      completeGrow(s);
    } else if (s.state.nodesBehind().isEmpty()) {
      s.log("info", "every node applied revision " + s.state.revision() + "; volume " + s.state.visibleState().display());
    }
  }

  // ---- online grow ----

  private static void onResize(Steps s, long newSizeBytes) {
    VolumeRecord state = s.state;
    if (state.phase() == Phase.ABSENT) {
      s.reply(new VolumeReply.NotFound(s.volumeId));
      return;
    }
    if (state.phase() != Phase.PLACED || state.growingToBytes() > 0 || state.growRound().isPresent()
        || !state.lostMembers().isEmpty()) {
      s.reply(new VolumeReply.Conflict("volume " + s.volumeId + " cannot grow now: "
          + state.reason().orElse("a grow is under way")));
      return;
    }
    VolumeSpec spec = state.spec().orElseThrow();
    if (newSizeBytes == spec.sizeBytes()) {
      s.reply(s.found());
      return;
    }
    if (newSizeBytes < spec.sizeBytes() || newSizeBytes % VolumeSpec.MIB != 0) {
      s.reply(new VolumeReply.Invalid("sizeBytes",
          "sizeBytes must be a multiple of 1 MiB larger than the current " + spec.sizeBytes() + " (no shrinking)"));
      return;
    }
    long extentBytes = VolumeGeometry.of(newSizeBytes, spec.layout().legs()).extentBytes();
    List<ReplicaPlacement> members = state.placement().orElseThrow().replicas();
    Set<String> names = members.stream().map(VolumeDecider::memberName).collect(Collectors.toCollection(TreeSet::new));
    s.emit(new VolumeRecord.GrowRequested(newSizeBytes, extentBytes, names));
    for (ReplicaPlacement m : members) {
      s.send(new Outbound.GrowExtent(m.diskId(), m.tag(), extentBytes, memberName(m)));
    }
    // the caller is answered when every disk answered: the shell keeps it as a GROW waiter
  }

  /** Whether the caller of a resize that got no reply waits for the disks' answers. */
  public static boolean growWaits(Decision decision) {
    return decision.reply().isEmpty() && decision.after().growRound().isPresent();
  }

  private static String memberName(ReplicaPlacement m) {
    return m.tag() + " on " + m.diskId();
  }

  private static void onGrowAnswered(Steps s, VolumeInput.GrowAnswered msg) {
    Optional<VolumeRecord.GrowRound> round = s.state.growRound();
    if (round.isEmpty() || !round.get().members().contains(msg.member()) || round.get().answered().contains(msg.member())) {
      return;
    }
    Optional<String> refusal = msg.reply().orElse(null) instanceof PhysicalDisk.Granted
        ? Optional.empty()
        : Optional.of(msg.reply().orElse(null) instanceof PhysicalDisk.Refused r ? r.reason() : "no answer");
    s.emit(new VolumeRecord.GrowAnswered(msg.member(), refusal));
    VolumeRecord.GrowRound g = s.state.growRound().orElseThrow();
    if (!g.complete()) {
      return;
    }
    if (!g.refusals().isEmpty()) {
      // Extents that did grow keep their extra bytes unused until the next grow: harmless.
      String reason = "cannot grow in place: " + String.join("; ", g.refusals());
      s.emit(new VolumeRecord.GrowRefused(reason));
      s.send(new Outbound.AnswerWaiters(WaiterKind.GROW, new VolumeReply.PlacementFailed(reason)));
      return;
    }
    s.emit(new VolumeRecord.GrowStarted(g.newSizeBytes(), g.extentBytes()));
    s.log("info", "growing to " + g.newSizeBytes() + " bytes; disk nodes first");
    sendPending(s);
    s.send(new Outbound.AnswerWaiters(WaiterKind.GROW, s.found()));
  }

  /** Stage 2 of a grow, once every disk node runs the longer slices. */
  private static void completeGrow(Steps s) {
    VolumeRecord state = s.state;
    if (state.phase() != Phase.PLACED || state.growingToBytes() == 0 || !state.nodesBehind().isEmpty()) {
      return;
    }
    s.emit(new VolumeRecord.GrowCompleted());
    sendPending(s);
  }

  // ---- delete ----

  private static void onDelete(Steps s) {
    switch (s.state.phase()) {
      case ABSENT -> s.reply(new VolumeReply.NotFound(s.volumeId));
      case PLACING -> s.reply(new VolumeReply.Conflict("volume " + s.volumeId + " is still being placed; retry"));
      case DELETING -> s.reply(s.found());
      default -> {
        s.emit(new VolumeRecord.DeletionStarted());
        s.reply(s.found());
        sendPending(s);
      }
    }
  }

  private static void onRemoved(Steps s, String nodeId, long revision) {
    if (s.state.phase() == Phase.PLACED) {
      if (s.state.draining().getOrDefault(nodeId, Long.MAX_VALUE) <= revision) {
        s.emit(new VolumeRecord.NodeDrained(nodeId, revision));
        VolumeHealer.onOldMemberConfirmed(s);
      }
      return;
    }
    if (s.state.phase() != Phase.DELETING || !s.state.nodesNotRemoved().contains(nodeId)) {
      return;
    }
    s.emit(new VolumeRecord.NodeRemoved(nodeId));
    releaseWhenRemoved(s);
  }

  /** Once every node removed the volume's objects, give back its extents and controller slots. */
  private static void releaseWhenRemoved(Steps s) {
    VolumeRecord state = s.state;
    if (state.phase() != Phase.DELETING || !state.nodesNotRemoved().isEmpty()) {
      return;
    }
    Set<String> targets = releaseTargets(state);
    if (state.releasesConfirmed().containsAll(targets)) {
      deleted(s);
      return;
    }
    for (String target : targets) {
      if (state.releasesConfirmed().contains(target)) {
        continue;
      }
      String id = target.substring(target.indexOf(':') + 1);
      s.send(target.startsWith("disk:")
          ? new Outbound.ReleaseExtents(id, Set.of(), target)
          : new Outbound.ReleaseControllerSlot(id, target));
    }
  }

  private static Set<String> releaseTargets(VolumeRecord state) {
    VolumePlacement placement = state.placement().orElseThrow();
    Set<String> targets = new TreeSet<>();
    placement.replicas().forEach(r -> targets.add("disk:" + r.diskId()));
    placement.controllers().forEach(c -> targets.add("node:" + c.nodeId()));
    return targets;
  }

  private static void onReleaseAnswered(Steps s, VolumeInput.ReleaseAnswered msg) {
    if (msg.target().startsWith("rebuild:")) {
      VolumeHealer.onReleaseAnswered(s, msg.target().substring("rebuild:".length()), msg.ok());
      return;
    }
    VolumeRecord state = s.state;
    if (state.phase() != Phase.DELETING || !state.nodesNotRemoved().isEmpty() || !msg.ok()
        || state.releasesConfirmed().contains(msg.target()) || !releaseTargets(state).contains(msg.target())) {
      return; // a failed release is asked again on the next tick (releases are idempotent)
    }
    s.emit(new VolumeRecord.ReleaseConfirmed(msg.target()));
    if (s.state.releasesConfirmed().containsAll(releaseTargets(s.state))) {
      deleted(s);
    }
  }

  private static void deleted(Steps s) {
    s.emit(new VolumeRecord.VolumeDeleted());
    s.send(new Outbound.UpdateIndex(false));
    s.log("info", "deleted; extents and controller slots released");
  }

  // ---- recovery and ticks ----

  private static void onRecovered(Steps s) {
    switch (s.state.phase()) {
      case PLACING -> s.send(new Outbound.FetchCapacity(s.state.placing().map(PlacementRound::attempt).orElse(0) + 1));
      case PLACED -> {
        s.send(new Outbound.UpdateIndex(true));
        VolumeHealer.onRecovered(s);
        sendPending(s);
        completeGrow(s);
        s.state.growRound().ifPresent(g -> {
          // The answers that were in flight are lost with the old incarnation: give the grow up.
          s.emit(new VolumeRecord.GrowRefused("interrupted by a restart; retry the resize"));
        });
      }
      case DELETING -> sendPending(s);
      case ABSENT -> { }
    }
  }

  private static void onTick(Steps s) {
    VolumeRecord state = s.state;
    if (state.phase() == Phase.PLACING) {
      return;
    }
    VolumeHealer.onTick(s);
    state = s.state;
    sendPending(s);
    boolean owed = (state.phase() == Phase.PLACED && (!state.nodesBehind().isEmpty() || !state.nodesDraining().isEmpty()
        || state.healing().failingOver()
        || !state.activeRebuilds().isEmpty())) || state.phase() == Phase.DELETING;
    if (owed) {
      s.send(new Outbound.StayAwake());
    }
  }

  /**
   * Whether the volume needs its periodic {@link VolumeInput.Tick}: something is owed (a node
   * behind or draining, a deletion), a repair is under way or waiting (failover, deferred failover,
   * any rebuild not done, an abandoned replacement, a lost node to take back, no active
   * controller), a grow is waiting, or it is still being placed. Every timeout the healing relies
   * on (fence confirmation, the self-fence wait, rebuild retries) lives in one of these states; an
   * Online volume with none of them costs no timer.
   */
  public static boolean needsTick(VolumeRecord state) {
    return switch (state.phase()) {
      case ABSENT -> false;
      case PLACING, DELETING -> true;
      case PLACED -> !state.nodesBehind().isEmpty() || !state.draining().isEmpty()
          || state.healing().failingOver() || state.healing().failover().map(f -> !f.stage().finished()).orElse(false)
          || state.healing().rebuilds().values().stream().anyMatch(r -> r.stage() != io.toma.healing.Rebuild.Stage.DONE)
          || !state.healing().abandoned().isEmpty() || !state.returnedLostNodes().isEmpty()
          || state.placement().map(p -> p.controllers().stream()
              .noneMatch(c -> c.role() == io.toma.topology.ControllerRole.ACTIVE)).orElse(true)
          || state.growingToBytes() > 0
          // a raid1-failed member under suspicion: its re-add attempts and its grace window run on ticks
          || !state.suspects().isEmpty()
          // a lost standby to retire or a standby missing: asked for again on every tick
          || StandbyReplacement.pending(state);
    };
  }

  /** Send every node that owes an acknowledgement its desired state (or its removal). */
  static void sendPending(Steps s) {
    VolumeRecord state = s.state;
    if (state.phase() == Phase.PLACED) {
      // Every tick of every awake volume comes here: derive the desired states only when some node
      // owes an acknowledgement (the derivation was the benchmark's largest idle cost).
      java.util.Set<String> behind = state.nodesBehind();
      Map<String, io.toma.kernel.DesiredState> desired = behind.isEmpty() ? Map.of() : state.desiredStates();
      for (String node : behind) {
        s.send(new Outbound.ApplyToNode(node, state.desiredRevisions().get(node), desired.get(node)));
      }
      // every node the volume left, lost ones included: one that comes back must not keep its objects
      state.draining().forEach((node, revision) -> s.send(new Outbound.RemoveFromNode(node, revision)));
    } else if (state.phase() == Phase.DELETING) {
      for (String node : state.nodesNotRemoved()) {
        s.send(new Outbound.RemoveFromNode(node, state.revision()));
      }
      releaseWhenRemoved(s);
    }
  }

  // ---- the accumulator ----

  /** Events emitted so far (already folded into {@code state}), outbound messages and the reply. */
  static final class Steps {
    final String volumeId;
    final DecisionContext ctx;
    VolumeRecord state;
    final List<Event> events = new ArrayList<>();
    final List<Outbound> outbound = new ArrayList<>();
    Optional<VolumeReply> reply = Optional.empty();

    Steps(String volumeId, VolumeRecord state, DecisionContext ctx) {
      this.volumeId = volumeId;
      this.state = state;
      this.ctx = ctx;
    }

    void emit(Event event) {
      VolumeState before = visible();
      state = state.apply(event);
      events.add(event);
      VolumeState after = visible();
      if (before != after) {
        outbound.add(new Outbound.Publish("volume-state", "volume " + after.display()
            + state.reason().map(r -> ": " + r).orElse("")));
      }
    }

    private VolumeState visible() {
      return state.phase() == Phase.ABSENT ? VolumeState.ABSENT : VolumeState.of(state.visibleState());
    }

    void send(Outbound message) {
      if (message instanceof Outbound.ApplyToNode && outbound.contains(message)) {
        return; // asked twice in one decision: once is enough
      }
      outbound.add(message);
    }

    void reply(VolumeReply r) {
      reply = Optional.of(r);
    }

    void log(String level, String message) {
      outbound.add(new Outbound.Log(level, message));
    }

    void publish(String kind, String message) {
      outbound.add(new Outbound.Publish(kind, message));
    }

    VolumeReply found() {
      return new VolumeReply.Found(VolumeViews.of(volumeId, state, ctx.raidHealth()));
    }

    Decision decision() {
      return new Decision(state, events, outbound, reply);
    }
  }

  /** What {@code volume-state} events compare: the visible state, or absence. */
  private enum VolumeState {
    ABSENT, PROVISIONING, ONLINE, DEGRADED, REBUILDING, DELETING;

    static VolumeState of(io.toma.topology.VolumeState s) {
      return valueOf(s.name());
    }

    String display() {
      return this == ABSENT ? "absent" : io.toma.topology.VolumeState.valueOf(name()).display();
    }
  }
}
