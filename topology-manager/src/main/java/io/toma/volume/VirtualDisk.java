package io.toma.volume;

import io.toma.agent.AgentProtocol;
import io.toma.capacity.CapacityView;
import io.toma.disk.PhysicalDisk;
import io.toma.kernel.DesiredState;
import io.toma.node.ControllerNode;
import io.toma.persistence.CborSerializable;
import io.toma.placement.ControllerOutcome;
import io.toma.placement.ControllerPlacer;
import io.toma.placement.DiskPlacer;
import io.toma.placement.MemberSlot;
import io.toma.placement.PlacementOutcome;
import io.toma.placement.PlacementRequest;
import io.toma.topology.ControllerPlacement;
import io.toma.topology.ControllerRole;
import io.toma.topology.DiskFacts;
import io.toma.topology.NodeFacts;
import io.toma.topology.ReplicaPlacement;
import io.toma.topology.TopologySettings;
import io.toma.topology.VolumePlacement;
import io.toma.topology.VolumeSpec;
import io.toma.volume.VolumeRecord.AttachmentAdded;
import io.toma.volume.VolumeRecord.AttachmentRemoved;
import io.toma.volume.VolumeRecord.CandidatesTouched;
import io.toma.volume.VolumeRecord.CreationAbandoned;
import io.toma.volume.VolumeRecord.CreationStarted;
import io.toma.volume.VolumeRecord.DeletionStarted;
import io.toma.volume.VolumeRecord.Event;
import io.toma.volume.VolumeRecord.MemberLost;
import io.toma.volume.VolumeRecord.NodeApplied;
import io.toma.volume.VolumeRecord.NodeRemoved;
import io.toma.volume.VolumeRecord.Phase;
import io.toma.volume.VolumeRecord.VolumeDeleted;
import io.toma.volume.VolumeRecord.VolumePlaced;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.UUID;
import java.util.stream.Collectors;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.actor.typed.Behavior;
import org.apache.pekko.actor.typed.javadsl.ActorContext;
import org.apache.pekko.actor.typed.javadsl.Behaviors;
import org.apache.pekko.actor.typed.javadsl.TimerScheduler;
import org.apache.pekko.actor.typed.receptionist.Receptionist;
import org.apache.pekko.cluster.sharding.typed.javadsl.ClusterSharding;
import org.apache.pekko.cluster.sharding.typed.javadsl.Entity;
import org.apache.pekko.cluster.sharding.typed.javadsl.EntityTypeKey;
import org.apache.pekko.persistence.typed.PersistenceId;
import org.apache.pekko.persistence.typed.RecoveryCompleted;
import org.apache.pekko.persistence.typed.javadsl.CommandHandler;
import org.apache.pekko.persistence.typed.javadsl.Effect;
import org.apache.pekko.persistence.typed.javadsl.EventHandler;
import org.apache.pekko.persistence.typed.javadsl.EventSourcedBehavior;
import org.apache.pekko.persistence.typed.javadsl.RetentionCriteria;
import org.apache.pekko.persistence.typed.javadsl.SignalHandler;

/**
 * One volume (entity id = volume name, so a retried create is idempotent): the single writer of
 * its spec, placement, controllers, attachments, epoch and health. It places itself (capacity
 * view, then each chosen PhysicalDisk grants or refuses; on a refusal it retries elsewhere a
 * bounded number of times), derives each node's desired kernel objects, sends them to the node
 * agents and re-sends until each acknowledges the revision. Decisions live in {@link VolumeRecord}
 * (events to state), {@link DiskPlacer}, {@link ControllerPlacer} and {@link DesiredStateBuilder};
 * this class receives, persists and sends.
 */
public final class VirtualDisk extends EventSourcedBehavior<VirtualDisk.Command, Event, VolumeRecord> {

  public static final EntityTypeKey<Command> TYPE_KEY = EntityTypeKey.create(Command.class, "VirtualDisk");

  /** Each controller of a volume gets its own block of controller ids (nvmet attr_cntlid_min/max). */
  public static final int CNTLID_BLOCK = 1000;
  /** ANA group of a volume on its controller ports (group 1 is nvmet's default group). */
  public static final int VOLUME_ANA_GROUP = 2;

  // ---- protocol ----

  public interface Command {}

  /** Commands that may cross the cluster (from the facade or another entity). */
  public sealed interface ExternalCommand extends Command, CborSerializable
      permits Create, Get, Delete, Attach, Detach, Resize, ReportApplied, ReportApplyFailed, ReportRemoved,
          ReportMemberLost, ReportRaidStatus, StayAwake {}

  public record Create(VolumeSpec spec, ActorRef<VolumeReply> replyTo) implements ExternalCommand {}

  public record Get(ActorRef<VolumeReply> replyTo) implements ExternalCommand {}

  /** Start deleting: the reply (state Deleting) comes once deletion is recorded, not finished. */
  public record Delete(ActorRef<VolumeReply> replyTo) implements ExternalCommand {}

  public record Attach(String hostNqn, ActorRef<VolumeReply> replyTo) implements ExternalCommand {}

  public record Detach(String hostNqn, ActorRef<VolumeReply> replyTo) implements ExternalCommand {}

  /**
   * Grow online to {@code newSizeBytes}: every member's extent grows in place, the disk nodes
   * apply the longer slices, then the controllers the larger raid and stripe (kernel-recipes
   * "Online grow"). Answered once the grow is recorded; refused when an extent cannot grow in place.
   */
  public record Resize(long newSizeBytes, ActorRef<VolumeReply> replyTo) implements ExternalCommand {}

  public record ReportApplied(String nodeId, long revision) implements ExternalCommand {}

  public record ReportApplyFailed(String nodeId, long revision, String error) implements ExternalCommand {}

  public record ReportRemoved(String nodeId, long revision) implements ExternalCommand {}

  public record ReportMemberLost(String diskId, String reason) implements ExternalCommand {}

  /** dm-raid health of one leg on a controller, as the agent read it (kept in memory for views). */
  public record ReportRaidStatus(String nodeId, String dmName, String health, long syncedSectors, long totalSectors)
      implements ExternalCommand {}

  /**
   * Sent to itself through the shard region while a node owes an acknowledgement: sharding's
   * idle passivation counts only messages that come through the shard, and a passivated volume
   * would stop re-sending its Apply.
   */
  public record StayAwake() implements ExternalCommand {}

  // internal messages: never leave this actor, never persisted
  private record StartPlacement() implements Command {}

  private record SnapshotReceived(int attempt, CapacityView.Snapshot snapshot) implements Command {}

  private record GrantAnswered(int attempt, MemberSlot slot, DiskFacts disk, Optional<PhysicalDisk.GrantReply> reply)
      implements Command {}

  private record SlotAnswered(int attempt, String nodeId, ControllerRole role, Optional<ControllerNode.SlotReply> reply)
      implements Command {}

  private record AgentsFound(Receptionist.Listing listing) implements Command {}

  private record AgentReport(AgentProtocol.Report report) implements Command {}

  private record Resend() implements Command {}

  private record ReleaseAnswered(boolean ok) implements Command {}

  private record GrowAnswered(int growId, String member, Optional<PhysicalDisk.GrantReply> reply) implements Command {}

  private record CompleteGrow() implements Command {}

  // ---- wiring ----

  public static void init(ActorSystem<?> system, ActorRef<CapacityView.Command> capacity, TopologySettings settings) {
    ClusterSharding.get(system)
        .init(Entity.of(TYPE_KEY, ctx -> create(ctx.getEntityId(), capacity, settings)).withRole("manager"));
  }

  public static Behavior<Command> create(
      String volumeId, ActorRef<CapacityView.Command> capacity, TopologySettings settings) {
    return Behaviors.setup(ctx -> Behaviors.withTimers(timers ->
        new VirtualDisk(volumeId, ctx, timers, capacity, settings)));
  }

  private final String volumeId;
  private final ActorContext<Command> ctx;
  private final TimerScheduler<Command> timers;
  private final ActorRef<CapacityView.Command> capacity;
  private final TopologySettings settings;
  private final ClusterSharding sharding;
  private final ActorRef<AgentProtocol.Report> reportAdapter;
  private final ActorRef<Receptionist.Listing> listingAdapter;

  // transient (not persisted): callers waiting for a create, and the round of placement under way
  private final List<ActorRef<VolumeReply>> createWaiters = new ArrayList<>();
  private int attempt = 0;
  private final Set<String> excludedDisks = new HashSet<>();
  private final Set<String> excludedNodes = new HashSet<>();
  private final List<String> refusals = new ArrayList<>();
  private Optional<Round> round = Optional.empty();
  private int releasesPending = 0;
  private final Map<String, String> lastApplyErrors = new TreeMap<>();
  /** Latest raid health per leg device (transient: the agents report it again periodically). */
  private final Map<String, ReportRaidStatus> raidStatus = new HashMap<>();

  /** An online grow asking the disks to grow its extents (transient: nothing is recorded until all agree). */
  private static final class PendingGrow {
    final int id;
    final long newSizeBytes;
    final long extentBytes;
    final int expected;
    final ActorRef<VolumeReply> replyTo;
    final List<String> refusals = new ArrayList<>();
    int answers = 0;

    PendingGrow(int id, long newSizeBytes, long extentBytes, int expected, ActorRef<VolumeReply> replyTo) {
      this.id = id;
      this.newSizeBytes = newSizeBytes;
      this.extentBytes = extentBytes;
      this.expected = expected;
      this.replyTo = replyTo;
    }
  }

  private Optional<PendingGrow> pendingGrow = Optional.empty();
  private int growIds = 0;

  /** One placement attempt: what was chosen and the answers received so far. */
  private static final class Round {
    final int attempt;
    final int expected;
    final Map<MemberSlot, ReplicaPlacement> granted = new HashMap<>();
    final Map<String, ControllerPlacement> slots = new HashMap<>();
    final List<String> refused = new ArrayList<>();
    final List<NodeFacts> controllers;
    int answers = 0;

    Round(int attempt, int expected, List<NodeFacts> controllers) {
      this.attempt = attempt;
      this.expected = expected;
      this.controllers = controllers;
    }
  }

  private VirtualDisk(String volumeId, ActorContext<Command> ctx, TimerScheduler<Command> timers,
      ActorRef<CapacityView.Command> capacity, TopologySettings settings) {
    super(PersistenceId.of(TYPE_KEY.name(), volumeId));
    this.volumeId = volumeId;
    this.ctx = ctx;
    this.timers = timers;
    this.capacity = capacity;
    this.settings = settings;
    this.sharding = ClusterSharding.get(ctx.getSystem());
    this.reportAdapter = ctx.messageAdapter(AgentProtocol.Report.class, AgentReport::new);
    this.listingAdapter = ctx.messageAdapter(Receptionist.Listing.class, AgentsFound::new);
  }

  @Override
  public VolumeRecord emptyState() {
    return VolumeRecord.absent();
  }

  @Override
  public RetentionCriteria retentionCriteria() {
    return RetentionCriteria.snapshotEvery(settings.snapshotEvery(), 2);
  }

  @Override
  public SignalHandler<VolumeRecord> signalHandler() {
    return newSignalHandlerBuilder()
        .onSignal(RecoveryCompleted.instance(), state -> {
          timers.startTimerWithFixedDelay(new Resend(), settings.applyResendInterval());
          switch (state.phase()) {
            case PLACING -> ctx.getSelf().tell(new StartPlacement());
            case PLACED -> {
              indexAdd();
              sendPending(state);
              ctx.getSelf().tell(new CompleteGrow());
            }
            case DELETING -> sendPending(state);
            case ABSENT -> { }
          }
        })
        .build();
  }

  @Override
  public EventHandler<VolumeRecord, Event> eventHandler() {
    return (state, event) -> state.apply(event);
  }

  @Override
  public CommandHandler<Command, Event, VolumeRecord> commandHandler() {
    return newCommandHandlerBuilder()
        .forAnyState()
        .onCommand(Create.class, this::onCreate)
        .onCommand(Get.class, (s, c) -> {
          c.replyTo().tell(s.phase() == Phase.ABSENT ? new VolumeReply.NotFound(volumeId) : found(s));
          return Effect().none();
        })
        .onCommand(Delete.class, this::onDelete)
        .onCommand(Attach.class, (s, c) -> onAttachment(s, c.hostNqn(), true, c.replyTo()))
        .onCommand(Detach.class, (s, c) -> onAttachment(s, c.hostNqn(), false, c.replyTo()))
        .onCommand(ReportApplied.class, (s, c) -> onApplied(s, c.nodeId(), c.revision()))
        .onCommand(ReportApplyFailed.class, (s, c) -> {
          lastApplyErrors.put(c.nodeId(), c.error());
          ctx.getLog().warn("volume {}: node {} failed to apply revision {}: {}; Toma re-sends it",
              volumeId, c.nodeId(), c.revision(), c.error());
          return Effect().none();
        })
        .onCommand(ReportRemoved.class, (s, c) -> onRemoved(s, c.nodeId()))
        .onCommand(ReportMemberLost.class, this::onMemberLost)
        .onCommand(ReportRaidStatus.class, (s, c) -> {
          raidStatus.put(c.dmName(), c);
          return Effect().none();
        })
        .onCommand(AgentReport.class, this::onAgentReport)
        .onCommand(StartPlacement.class, (s, c) -> startPlacement(s))
        .onCommand(SnapshotReceived.class, this::onSnapshot)
        .onCommand(GrantAnswered.class, this::onGrantAnswered)
        .onCommand(SlotAnswered.class, this::onSlotAnswered)
        .onCommand(AgentsFound.class, this::onAgentsFound)
        .onCommand(Resend.class, (s, c) -> {
          sendPending(s);
          boolean owed = (s.phase() == Phase.PLACED && !s.nodesBehind().isEmpty()) || s.phase() == Phase.DELETING;
          if (owed) {
            sharding.entityRefFor(TYPE_KEY, volumeId).tell(new StayAwake());
          }
          return Effect().none();
        })
        .onCommand(StayAwake.class, (s, c) -> Effect().none())
        .onCommand(ReleaseAnswered.class, this::onReleaseAnswered)
        .onCommand(Resize.class, this::onResize)
        .onCommand(GrowAnswered.class, this::onGrowAnswered)
        .onCommand(CompleteGrow.class, this::onCompleteGrow)
        .build();
  }

  // ---- create ----

  private Effect<Event, VolumeRecord> onCreate(VolumeRecord state, Create cmd) {
    Optional<io.toma.topology.FieldError> invalid = cmd.spec().validate();
    if (invalid.isPresent()) {
      cmd.replyTo().tell(new VolumeReply.Invalid(invalid.get().field(), invalid.get().message()));
      return Effect().none();
    }
    if (!cmd.spec().name().equals(volumeId)) {
      cmd.replyTo().tell(new VolumeReply.Invalid("name", "name must be the volume id " + volumeId));
      return Effect().none();
    }
    switch (state.phase()) {
      case ABSENT:
        createWaiters.add(cmd.replyTo());
        return Effect()
            .persist(new CreationStarted(cmd.spec(), UUID.randomUUID().toString()))
            .thenRun(s -> ctx.getSelf().tell(new StartPlacement()));
      case DELETING:
        cmd.replyTo().tell(new VolumeReply.Conflict("volume " + volumeId + " is being deleted"));
        return Effect().none();
      default:
        if (!state.spec().orElseThrow().equals(cmd.spec())) {
          cmd.replyTo().tell(new VolumeReply.Conflict(
              "volume " + volumeId + " exists with another spec: " + describe(state.spec().orElseThrow())));
          return Effect().none();
        }
        if (state.phase() == Phase.PLACING) {
          createWaiters.add(cmd.replyTo());
        } else {
          cmd.replyTo().tell(found(state));
        }
        return Effect().none();
    }
  }

  private static String describe(VolumeSpec spec) {
    return "sizeBytes=" + spec.sizeBytes() + ", legs=" + spec.layout().legs() + ", replicas="
        + spec.layout().replicas() + ", standbyControllers=" + spec.layout().standbyControllers()
        + ", failureDomain=" + spec.layout().level().label();
  }

  private Effect<Event, VolumeRecord> startPlacement(VolumeRecord state) {
    if (state.phase() != Phase.PLACING || round.isPresent()) {
      return Effect().none();
    }
    attempt++;
    int thisAttempt = attempt;
    ctx.ask(CapacityView.Snapshot.class, capacity, settings.askTimeout(), CapacityView.GetSnapshot::new,
        (snapshot, failure) -> snapshot != null
            ? new SnapshotReceived(thisAttempt, snapshot)
            : new SnapshotReceived(thisAttempt, new CapacityView.Snapshot(List.of(), List.of())));
    round = Optional.of(new Round(thisAttempt, Integer.MAX_VALUE, List.of()));
    return Effect().none();
  }

  private Effect<Event, VolumeRecord> onSnapshot(VolumeRecord state, SnapshotReceived msg) {
    if (state.phase() != Phase.PLACING || msg.attempt() != attempt) {
      return Effect().none();
    }
    VolumeSpec spec = state.spec().orElseThrow();
    VolumeGeometry geometry = VolumeGeometry.of(spec);
    Set<String> cordoned = msg.snapshot().nodes().stream().filter(NodeFacts::cordoned)
        .map(NodeFacts::nodeId).collect(Collectors.toSet());
    PlacementRequest request = PlacementRequest.forNewVolume(volumeId, spec.layout().legs(),
        spec.layout().replicas(), geometry.extentBytes(), spec.layout().level(), excludedDisks);
    msg.snapshot().nodes().forEach(n -> addresses.put(n.nodeId(), n.fabricAddress()));
    // A disk whose node has not registered yet has no address to export from: not a candidate.
    List<DiskFacts> known = msg.snapshot().disks().stream().filter(d -> addresses.containsKey(d.nodeId())).toList();
    PlacementOutcome disks = DiskPlacer.greedyByFreeSpace(settings.spareReserveFraction())
        .place(request, known, cordoned);
    if (disks instanceof PlacementOutcome.Refused refused) {
      return abandon(state, refused.message());
    }
    ControllerOutcome controllers = new ControllerPlacer()
        .place(msg.snapshot().nodes(), spec.layout().standbyControllers(), excludedNodes);
    if (controllers instanceof ControllerOutcome.Refused refused) {
      return abandon(state, refused.message());
    }
    List<PlacementOutcome.ChosenMember> members = ((PlacementOutcome.Chosen) disks).members();
    ControllerOutcome.Chosen chosenControllers = (ControllerOutcome.Chosen) controllers;
    List<NodeFacts> controllerNodes = new ArrayList<>();
    controllerNodes.add(chosenControllers.active());
    controllerNodes.addAll(chosenControllers.standbys());
    Set<String> diskIds = members.stream().map(m -> m.disk().diskId()).collect(Collectors.toCollection(TreeSet::new));
    Set<String> nodeIds = controllerNodes.stream().map(NodeFacts::nodeId).collect(Collectors.toCollection(TreeSet::new));
    int thisAttempt = msg.attempt();
    return Effect()
        .persist(new CandidatesTouched(diskIds, nodeIds))
        .thenRun(s -> {
          Round r = new Round(thisAttempt, members.size() + controllerNodes.size(), controllerNodes);
          round = Optional.of(r);
          for (PlacementOutcome.ChosenMember m : members) {
            String tag = "l" + m.slot().leg() + "r" + m.slot().replica();
            ctx.ask(PhysicalDisk.GrantReply.class,
                sharding.entityRefFor(PhysicalDisk.TYPE_KEY, m.disk().diskId()), settings.askTimeout(),
                replyTo -> new PhysicalDisk.Grant(volumeId, tag, geometry.extentBytes(), replyTo),
                (reply, failure) -> new GrantAnswered(thisAttempt, m.slot(), m.disk(), Optional.ofNullable(reply)));
          }
          for (int i = 0; i < controllerNodes.size(); i++) {
            NodeFacts node = controllerNodes.get(i);
            ControllerRole role = i == 0 ? ControllerRole.ACTIVE : ControllerRole.STANDBY;
            ctx.ask(ControllerNode.SlotReply.class,
                sharding.entityRefFor(ControllerNode.TYPE_KEY, node.nodeId()), settings.askTimeout(),
                replyTo -> new ControllerNode.HostController(volumeId, role, replyTo),
                (reply, failure) -> new SlotAnswered(thisAttempt, node.nodeId(), role, Optional.ofNullable(reply)));
          }
        });
  }

  private Effect<Event, VolumeRecord> onGrantAnswered(VolumeRecord state, GrantAnswered msg) {
    Optional<Round> current = round.filter(r -> r.attempt == msg.attempt());
    if (state.phase() != Phase.PLACING || current.isEmpty()) {
      return Effect().none();
    }
    Round r = current.get();
    r.answers++;
    if (msg.reply().orElse(null) instanceof PhysicalDisk.Granted granted) {
      DiskFacts d = msg.disk();
      r.granted.put(msg.slot(), new ReplicaPlacement(msg.slot().leg(), msg.slot().replica(), d.diskId(), d.nodeId(),
          d.rack(), d.zone(), "", granted.extent().offsetBytes(), granted.extent().lengthBytes()));
    } else {
      String why = msg.reply().orElse(null) instanceof PhysicalDisk.Refused refused ? refused.reason() : "no answer";
      r.refused.add(msg.disk().diskId() + ": " + why);
      excludedDisks.add(msg.disk().diskId());
    }
    return roundMaybeComplete(state, r);
  }

  private Effect<Event, VolumeRecord> onSlotAnswered(VolumeRecord state, SlotAnswered msg) {
    Optional<Round> current = round.filter(r -> r.attempt == msg.attempt());
    if (state.phase() != Phase.PLACING || current.isEmpty()) {
      return Effect().none();
    }
    Round r = current.get();
    r.answers++;
    if (msg.reply().orElse(null) instanceof ControllerNode.SlotGranted granted) {
      int index = r.controllers.stream().map(NodeFacts::nodeId).toList().indexOf(msg.nodeId());
      NodeFacts node = granted.node();
      r.slots.put(msg.nodeId(), new ControllerPlacement(node.nodeId(), msg.role(), node.fabricAddress(),
          node.hostNqn(), granted.serviceId(), VOLUME_ANA_GROUP, 1 + index * CNTLID_BLOCK, (index + 1) * CNTLID_BLOCK));
    } else {
      String why = msg.reply().orElse(null) instanceof ControllerNode.SlotRefused refused ? refused.reason() : "no answer";
      r.refused.add(msg.nodeId() + ": " + why);
      excludedNodes.add(msg.nodeId());
    }
    return roundMaybeComplete(state, r);
  }

  private Effect<Event, VolumeRecord> roundMaybeComplete(VolumeRecord state, Round r) {
    if (r.answers < r.expected) {
      return Effect().none();
    }
    round = Optional.empty();
    if (!r.refused.isEmpty()) {
      refusals.addAll(r.refused);
      if (attempt >= settings.placementAttempts()) {
        return abandon(state, "placement refused after " + attempt + " attempt(s): " + String.join("; ", refusals));
      }
      ctx.getLog().info("volume {}: placement attempt {} refused ({}); Toma retries elsewhere",
          volumeId, attempt, String.join("; ", r.refused));
      ctx.getSelf().tell(new StartPlacement());
      return Effect().none();
    }
    // The capacity view's disks carry no address: take it from the node facts of the same snapshot.
    List<ReplicaPlacement> replicas = new ArrayList<>(r.granted.values());
    List<ControllerPlacement> controllers = r.controllers.stream().map(n -> r.slots.get(n.nodeId())).toList();
    VolumePlacement placement = new VolumePlacement(withAddresses(replicas), controllers);
    return Effect().persist(new VolumePlaced(placement)).thenRun(s -> {
      releaseLeftovers(state, placement);
      indexAdd();
      sendPending(s);
      VolumeReply reply = found(s);
      createWaiters.forEach(w -> w.tell(reply));
      createWaiters.clear();
      refusals.clear();
      ctx.getLog().info("volume {}: placed on {}; sending revision {} to its nodes", volumeId, placement.nodes(), s.revision());
    });
  }

  /** Fill in each member's fabric address from the latest node facts. */
  private List<ReplicaPlacement> withAddresses(List<ReplicaPlacement> replicas) {
    return replicas.stream().map(r -> new ReplicaPlacement(r.leg(), r.replica(), r.diskId(), r.nodeId(), r.rack(),
        r.zone(), addresses.getOrDefault(r.nodeId(), ""), r.offsetBytes(), r.lengthBytes())).toList();
  }

  private final Map<String, String> addresses = new HashMap<>();

  private Effect<Event, VolumeRecord> abandon(VolumeRecord state, String reason) {
    ctx.getLog().info("volume {}: not created: {}", volumeId, reason);
    for (String disk : state.touchedDisks()) {
      sharding.entityRefFor(PhysicalDisk.TYPE_KEY, disk).tell(
          new PhysicalDisk.Release(volumeId, Set.of(), ctx.getSystem().ignoreRef()));
    }
    for (String node : state.touchedNodes()) {
      sharding.entityRefFor(ControllerNode.TYPE_KEY, node).tell(
          new ControllerNode.ReleaseController(volumeId, ctx.getSystem().ignoreRef()));
    }
    round = Optional.empty();
    attempt = 0;
    excludedDisks.clear();
    excludedNodes.clear();
    refusals.clear();
    return Effect().persist(new CreationAbandoned(reason)).thenRun(s -> {
      createWaiters.forEach(w -> w.tell(new VolumeReply.PlacementFailed(reason)));
      createWaiters.clear();
    });
  }

  /** Extents and slots granted in abandoned attempts are given back; the placed ones are kept. */
  private void releaseLeftovers(VolumeRecord before, VolumePlacement placement) {
    for (String disk : before.touchedDisks()) {
      Set<String> keep = placement.replicas().stream().filter(r -> r.diskId().equals(disk))
          .map(ReplicaPlacement::tag).collect(Collectors.toSet());
      sharding.entityRefFor(PhysicalDisk.TYPE_KEY, disk).tell(
          new PhysicalDisk.Release(volumeId, keep, ctx.getSystem().ignoreRef()));
    }
    Set<String> controllerNodes = placement.controllers().stream().map(ControllerPlacement::nodeId).collect(Collectors.toSet());
    for (String node : before.touchedNodes()) {
      if (!controllerNodes.contains(node)) {
        sharding.entityRefFor(ControllerNode.TYPE_KEY, node).tell(
            new ControllerNode.ReleaseController(volumeId, ctx.getSystem().ignoreRef()));
      }
    }
  }

  // ---- attach / detach ----

  private Effect<Event, VolumeRecord> onAttachment(VolumeRecord state, String hostNqn, boolean attach,
      ActorRef<VolumeReply> replyTo) {
    if (state.phase() == Phase.ABSENT) {
      replyTo.tell(new VolumeReply.NotFound(volumeId));
      return Effect().none();
    }
    if (hostNqn == null || !hostNqn.startsWith("nqn.") || hostNqn.getBytes(java.nio.charset.StandardCharsets.UTF_8).length > 223
        || hostNqn.chars().anyMatch(ch -> ch <= ' ' || ch == '/')) {
      replyTo.tell(new VolumeReply.Invalid("hostNqn", "hostNqn must start with 'nqn.', be at most 223 bytes, with no spaces or '/'"));
      return Effect().none();
    }
    if (state.phase() != Phase.PLACED) {
      replyTo.tell(new VolumeReply.Conflict("volume " + volumeId + " is " + state.visibleState().display().toLowerCase()
          + "; retry once it is placed"));
      return Effect().none();
    }
    boolean present = state.attachments().contains(hostNqn);
    if (present == attach) {
      replyTo.tell(found(state));
      return Effect().none();
    }
    Event event = attach ? new AttachmentAdded(hostNqn) : new AttachmentRemoved(hostNqn);
    return Effect().persist(event).thenRun(s -> {
      sendPending(s);
      replyTo.tell(found(s));
    });
  }

  // ---- reports from agents ----

  private Effect<Event, VolumeRecord> onAgentReport(VolumeRecord state, AgentReport msg) {
    AgentProtocol.Report report = msg.report();
    if (report instanceof AgentProtocol.Applied a && a.volumeId().equals(volumeId)) {
      return onApplied(state, a.nodeId(), a.revision());
    }
    if (report instanceof AgentProtocol.ApplyFailed f && f.volumeId().equals(volumeId)) {
      lastApplyErrors.put(f.nodeId(), f.error());
      return Effect().none();
    }
    if (report instanceof AgentProtocol.Removed r && r.volumeId().equals(volumeId)) {
      return onRemoved(state, r.nodeId());
    }
    return Effect().none();
  }

  private Effect<Event, VolumeRecord> onApplied(VolumeRecord state, String nodeId, long revision) {
    if (state.phase() != Phase.PLACED || revision <= state.appliedRevisions().getOrDefault(nodeId, 0L)
        || !state.desiredRevisions().containsKey(nodeId) || revision > state.revision()) {
      return Effect().none();
    }
    lastApplyErrors.remove(nodeId);
    return Effect().persist(new NodeApplied(nodeId, revision)).thenRun(s -> {
      if (s.growingToBytes() > 0 && s.nodesBehind().isEmpty()) {
        ctx.getSelf().tell(new CompleteGrow());
      } else if (s.nodesBehind().isEmpty()) {
        ctx.getLog().info("volume {}: every node applied revision {}; volume {}", volumeId, s.revision(),
            s.visibleState().display());
      }
    });
  }

  private Effect<Event, VolumeRecord> onMemberLost(VolumeRecord state, ReportMemberLost cmd) {
    boolean uses = state.placement().map(p -> p.replicas().stream().anyMatch(r -> r.diskId().equals(cmd.diskId())))
        .orElse(false);
    if (state.phase() != Phase.PLACED || !uses || state.lostDisks().containsKey(cmd.diskId())) {
      return Effect().none();
    }
    ctx.getLog().warn("volume {}: member on disk {} lost ({}); volume degraded", volumeId, cmd.diskId(), cmd.reason());
    return Effect().persist(new MemberLost(cmd.diskId(), cmd.reason()));
  }

  // ---- online grow ----

  private Effect<Event, VolumeRecord> onResize(VolumeRecord state, Resize cmd) {
    if (state.phase() == Phase.ABSENT) {
      cmd.replyTo().tell(new VolumeReply.NotFound(volumeId));
      return Effect().none();
    }
    if (state.phase() != Phase.PLACED || state.growingToBytes() > 0 || pendingGrow.isPresent()
        || !state.lostMembers().isEmpty()) {
      cmd.replyTo().tell(new VolumeReply.Conflict("volume " + volumeId + " cannot grow now: "
          + state.reason().orElse("a grow is under way")));
      return Effect().none();
    }
    VolumeSpec spec = state.spec().orElseThrow();
    if (cmd.newSizeBytes() == spec.sizeBytes()) {
      cmd.replyTo().tell(found(state));
      return Effect().none();
    }
    if (cmd.newSizeBytes() < spec.sizeBytes() || cmd.newSizeBytes() % VolumeSpec.MIB != 0) {
      cmd.replyTo().tell(new VolumeReply.Invalid("sizeBytes",
          "sizeBytes must be a multiple of 1 MiB larger than the current " + spec.sizeBytes() + " (no shrinking)"));
      return Effect().none();
    }
    long extentBytes = VolumeGeometry.of(cmd.newSizeBytes(), spec.layout().legs()).extentBytes();
    List<ReplicaPlacement> members = state.placement().orElseThrow().replicas();
    PendingGrow grow = new PendingGrow(++growIds, cmd.newSizeBytes(), extentBytes, members.size(), cmd.replyTo());
    pendingGrow = Optional.of(grow);
    for (ReplicaPlacement m : members) {
      ctx.ask(PhysicalDisk.GrantReply.class, sharding.entityRefFor(PhysicalDisk.TYPE_KEY, m.diskId()),
          settings.askTimeout(), replyTo -> new PhysicalDisk.Grow(volumeId, m.tag(), extentBytes, replyTo),
          (reply, failure) -> new GrowAnswered(grow.id, m.tag() + " on " + m.diskId(), Optional.ofNullable(reply)));
    }
    return Effect().none();
  }

  private Effect<Event, VolumeRecord> onGrowAnswered(VolumeRecord state, GrowAnswered msg) {
    Optional<PendingGrow> current = pendingGrow.filter(g -> g.id == msg.growId());
    if (current.isEmpty()) {
      return Effect().none();
    }
    PendingGrow grow = current.get();
    grow.answers++;
    if (!(msg.reply().orElse(null) instanceof PhysicalDisk.Granted)) {
      String why = msg.reply().orElse(null) instanceof PhysicalDisk.Refused r ? r.reason() : "no answer";
      grow.refusals.add(msg.member() + ": " + why);
    }
    if (grow.answers < grow.expected) {
      return Effect().none();
    }
    pendingGrow = Optional.empty();
    if (!grow.refusals.isEmpty()) {
      // Extents that did grow keep their extra bytes unused until the next grow: harmless.
      grow.replyTo.tell(new VolumeReply.PlacementFailed(
          "cannot grow in place: " + String.join("; ", grow.refusals)));
      return Effect().none();
    }
    return Effect().persist(new VolumeRecord.GrowStarted(grow.newSizeBytes, grow.extentBytes)).thenRun(s -> {
      ctx.getLog().info("volume {}: growing to {} bytes; disk nodes first", volumeId, grow.newSizeBytes);
      sendPending(s);
      grow.replyTo.tell(found(s));
    });
  }

  /** Stage 2 of a grow, once every disk node runs the longer slices. */
  private Effect<Event, VolumeRecord> onCompleteGrow(VolumeRecord state, CompleteGrow msg) {
    if (state.phase() != Phase.PLACED || state.growingToBytes() == 0 || !state.nodesBehind().isEmpty()) {
      return Effect().none();
    }
    return Effect().persist(new VolumeRecord.GrowCompleted()).thenRun(this::sendPending);
  }

  // ---- delete ----

  private Effect<Event, VolumeRecord> onDelete(VolumeRecord state, Delete cmd) {
    switch (state.phase()) {
      case ABSENT:
        cmd.replyTo().tell(new VolumeReply.NotFound(volumeId));
        return Effect().none();
      case PLACING:
        cmd.replyTo().tell(new VolumeReply.Conflict("volume " + volumeId + " is still being placed; retry"));
        return Effect().none();
      case DELETING:
        cmd.replyTo().tell(found(state));
        return Effect().none();
      default:
        return Effect().persist(new DeletionStarted()).thenRun(s -> {
          cmd.replyTo().tell(found(s));
          sendPending(s);
        });
    }
  }

  private Effect<Event, VolumeRecord> onRemoved(VolumeRecord state, String nodeId) {
    if (state.phase() != Phase.DELETING || !state.nodesNotRemoved().contains(nodeId)) {
      return Effect().none();
    }
    return Effect().persist(new NodeRemoved(nodeId)).thenRun(this::releaseWhenRemoved);
  }

  /** Once every node removed the volume's objects, give back its extents and controller slots. */
  private void releaseWhenRemoved(VolumeRecord state) {
    if (state.phase() != Phase.DELETING || !state.nodesNotRemoved().isEmpty() || releasesPending > 0) {
      return;
    }
    VolumePlacement placement = state.placement().orElseThrow();
    Set<String> disks = placement.replicas().stream().map(ReplicaPlacement::diskId).collect(Collectors.toSet());
    releasesPending = disks.size() + placement.controllers().size();
    for (String disk : disks) {
      ctx.ask(PhysicalDisk.Released.class, sharding.entityRefFor(PhysicalDisk.TYPE_KEY, disk), settings.askTimeout(),
          replyTo -> new PhysicalDisk.Release(volumeId, Set.of(), replyTo),
          (ok, failure) -> new ReleaseAnswered(ok != null));
    }
    for (ControllerPlacement c : placement.controllers()) {
      ctx.ask(ControllerNode.NodeReply.class, sharding.entityRefFor(ControllerNode.TYPE_KEY, c.nodeId()),
          settings.askTimeout(), replyTo -> new ControllerNode.ReleaseController(volumeId, replyTo),
          (ok, failure) -> new ReleaseAnswered(ok != null));
    }
  }

  private boolean releaseFailed = false;

  private Effect<Event, VolumeRecord> onReleaseAnswered(VolumeRecord state, ReleaseAnswered msg) {
    if (state.phase() != Phase.DELETING || releasesPending == 0) {
      return Effect().none();
    }
    releasesPending--;
    releaseFailed |= !msg.ok();
    if (releasesPending > 0) {
      return Effect().none();
    }
    if (releaseFailed) {
      // Releases are idempotent: the next resend tick tries them all again.
      releaseFailed = false;
      return Effect().none();
    }
    return Effect().persist(new VolumeDeleted()).thenRun(s -> {
      sharding.entityRefFor(VolumeIndex.TYPE_KEY, VolumeIndex.ID).tell(new VolumeIndex.Remove(volumeId));
      ctx.getLog().info("volume {}: deleted; extents and controller slots released", volumeId);
    });
  }

  // ---- sending desired states ----

  /** Ask the receptionist for the agents of every node that owes an acknowledgement. */
  private void sendPending(VolumeRecord state) {
    Set<String> nodes = switch (state.phase()) {
      case PLACED -> state.nodesBehind();
      case DELETING -> state.nodesNotRemoved();
      default -> Set.of();
    };
    for (String node : nodes) {
      ctx.getSystem().receptionist().tell(Receptionist.find(AgentProtocol.agentKey(node), listingAdapter));
    }
    if (state.phase() == Phase.DELETING && state.nodesNotRemoved().isEmpty()) {
      releaseWhenRemoved(state);
    }
  }

  private Effect<Event, VolumeRecord> onAgentsFound(VolumeRecord state, AgentsFound msg) {
    String keyId = msg.listing().getKey().id();
    String nodeId = keyId.substring("toma-agent-".length());
    Set<ActorRef<AgentProtocol.Command>> agents = msg.listing().getServiceInstances(AgentProtocol.agentKey(nodeId));
    if (agents.isEmpty()) {
      return Effect().none();
    }
    if (state.phase() == Phase.PLACED && state.nodesBehind().contains(nodeId)) {
      DesiredState desired = state.desiredStates().get(nodeId);
      long revision = state.desiredRevisions().get(nodeId);
      agents.forEach(a -> a.tell(new AgentProtocol.Apply(volumeId, revision, desired, reportAdapter)));
    } else if (state.phase() == Phase.DELETING && state.nodesNotRemoved().contains(nodeId)) {
      agents.forEach(a -> a.tell(new AgentProtocol.Remove(volumeId, state.revision(), reportAdapter)));
    }
    return Effect().none();
  }

  private void indexAdd() {
    sharding.entityRefFor(VolumeIndex.TYPE_KEY, VolumeIndex.ID).tell(new VolumeIndex.Add(volumeId));
  }

  private VolumeReply found(VolumeRecord state) {
    Map<String, VolumeViews.RaidHealth> health = new HashMap<>();
    raidStatus.forEach((dm, r) -> health.put(dm, new VolumeViews.RaidHealth(r.health(), r.syncedSectors(), r.totalSectors())));
    return new VolumeReply.Found(VolumeViews.of(volumeId, state, health));
  }
}
