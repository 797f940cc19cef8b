package io.toma.volume;

import io.toma.agent.AgentProtocol;
import io.toma.capacity.CapacityView;
import io.toma.disk.PhysicalDisk;
import io.toma.healing.HealingSettings;
import io.toma.healing.SafetyOverrides;
import io.toma.node.ControllerNode;
import io.toma.persistence.CborSerializable;
import io.toma.topology.ControllerRole;
import io.toma.topology.TomaEvent;
import io.toma.topology.TomaEvents;
import io.toma.topology.TopologySettings;
import io.toma.topology.VolumeSpec;
import io.toma.volume.VolumeRecord.Event;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeMap;
import java.util.UUID;
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
 * its spec, placement, controllers, attachments, epoch and health. A thin shell around
 * {@link VolumeDecider}: it maps each message to a {@link VolumeInput}, calls the decider, persists
 * the events, answers the caller and performs the {@link Outbound} messages (asks to PhysicalDisk
 * and ControllerNode entities, Apply/Remove to node agents through the receptionist, the events
 * topic). It keeps only what cannot be persisted: callers waiting for an answer, the latest raid
 * observations and capacity snapshot, and the last message owed to each node agent.
 */
public final class VirtualDisk extends EventSourcedBehavior<VirtualDisk.Command, Event, VolumeRecord> {

  public static final EntityTypeKey<Command> TYPE_KEY = EntityTypeKey.create(Command.class, "VirtualDisk");

  /** Each controller of a volume gets its own block of controller ids (nvmet attr_cntlid_min/max). */
  public static final int CNTLID_BLOCK = VolumeDecider.CNTLID_BLOCK;
  /** ANA group of a volume on its controller ports (group 1 is nvmet's default group). */
  public static final int VOLUME_ANA_GROUP = VolumeDecider.VOLUME_ANA_GROUP;

  // ---- protocol ----

  public interface Command {}

  /** Commands that may cross the cluster (from the facade or another entity). */
  public sealed interface ExternalCommand extends Command, CborSerializable
      permits Create, Get, Delete, Attach, Detach, Resize, ReportApplied, ReportApplyFailed, ReportRemoved,
          ReportMemberLost, ReportRaidStatus, StayAwake, ReportNodeLost, DrainNode, RebuildPermitted,
          ReportLinkLost, ReportControllerUnreachable, WakeForRepair, ReportNodeSeenAgain {}

  /** Sent by the repair roster's waker: starting the entity is the point (it resumes its repair). */
  public record WakeForRepair() implements ExternalCommand {}

  /** A majority has not seen controller node {@code nodeId} for the confirm window (not downed yet). */
  public record ReportControllerUnreachable(String nodeId, String reason) implements ExternalCommand {}

  /** The cluster's {@link io.toma.healing.RebuildCoordinator} admitted the rebuild of {@code lostTag}. */
  public record RebuildPermitted(String lostTag) implements ExternalCommand {}

  /**
   * Controller {@code observer} has not reached disk node {@code peer} for the grace window while
   * both are alive (sent by the fault router); {@code cutLinks} every observer-&gt;peer pair known to
   * be cut now, so the volume can tell whether a standby reaches what the active cannot.
   */
  public record ReportLinkLost(String observer, String peer, String reason, Set<String> cutLinks)
      implements ExternalCommand {}

  /** A node this volume uses was declared lost (sent by the fault router). */
  public record ReportNodeLost(String nodeId, String reason) implements ExternalCommand {}

  /** A node of this volume registered again (booted, or back in sight of a majority). */
  public record ReportNodeSeenAgain(String nodeId) implements ExternalCommand {}

  /** Move this volume off a node: controllers fail over, members are rebuilt elsewhere. */
  public record DrainNode(String nodeId) implements ExternalCommand {}

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

  /** The answer to an ask, already a decider input. */
  private record Answer(VolumeInput input) implements Command {}

  private record AgentsFound(Receptionist.Listing listing) implements Command {}

  private record AgentReport(AgentProtocol.Report report) implements Command {}

  private record Tick() implements Command {}

  private static final Tick TICK = new Tick();
  /** Timer key: one extra tick when a deferred failover is due. */
  private static final Object DEFERRED_FAILOVER_DUE = "deferred-failover-due";

  /**
   * Whether the resend tick is scheduled now (diagnostics and tests: an idle volume costs no
   * timer). Answered by the entity itself; serializable like every command the testkit checks.
   */
  public record TickScheduled(ActorRef<TickState> replyTo) implements Command, CborSerializable {}

  public record TickState(boolean scheduled) implements CborSerializable {}

  private record CapacityRefreshed(CapacityView.Snapshot snapshot) implements Command {}

  /** A fault, held until a fresh capacity snapshot is at hand (its repair places from it). */
  private record FaultWithCapacity(VolumeInput input, CapacityView.Snapshot snapshot) implements Command {}

  // ---- wiring ----

  public static void init(ActorSystem<?> system, ActorRef<CapacityView.Command> capacity, TopologySettings settings) {
    init(system, capacity, settings, HealingSettings.defaults());
  }

  public static void init(ActorSystem<?> system, ActorRef<CapacityView.Command> capacity, TopologySettings settings,
      HealingSettings healing) {
    ClusterSharding.get(system)
        .init(Entity.of(TYPE_KEY, ctx -> create(ctx.getEntityId(), capacity, settings, healing)).withRole("manager"));
  }

  /** As above, with rebuilds admitted by the cluster's coordinator (cluster-wide rebuild caps). */
  public static void init(ActorSystem<?> system, ActorRef<CapacityView.Command> capacity, TopologySettings settings,
      HealingSettings healing, ActorRef<io.toma.healing.RebuildCoordinator.Command> rebuilds) {
    ClusterSharding.get(system).init(Entity.of(TYPE_KEY, ctx -> create(ctx.getEntityId(), capacity, settings, healing,
        Optional.of(rebuilds))).withRole("manager"));
  }

  public static Behavior<Command> create(
      String volumeId, ActorRef<CapacityView.Command> capacity, TopologySettings settings) {
    return create(volumeId, capacity, settings, HealingSettings.defaults());
  }

  public static Behavior<Command> create(
      String volumeId, ActorRef<CapacityView.Command> capacity, TopologySettings settings, HealingSettings healing) {
    return create(volumeId, capacity, settings, healing, Optional.empty());
  }

  public static Behavior<Command> create(String volumeId, ActorRef<CapacityView.Command> capacity,
      TopologySettings settings, HealingSettings healing,
      Optional<ActorRef<io.toma.healing.RebuildCoordinator.Command>> rebuilds) {
    return Behaviors.setup(ctx -> Behaviors.withTimers(timers -> Behaviors.withMdc(Command.class,
        Map.of("volumeId", volumeId), new VirtualDisk(volumeId, ctx, timers, capacity, settings, healing,
            rebuilds.map(c -> new RebuildGate(volumeId, c))))));
  }

  private final String volumeId;
  private final ActorContext<Command> ctx;
  private final TimerScheduler<Command> timers;
  private final ActorRef<CapacityView.Command> capacity;
  private final TopologySettings settings;
  private final HealingSettings healing;
  private final ClusterSharding sharding;
  private final ActorRef<AgentProtocol.Report> reportAdapter;
  private final ActorRef<Receptionist.Listing> listingAdapter;

  private static final CapacityView.Snapshot NO_CAPACITY = new CapacityView.Snapshot(List.of(), List.of());

  // transient (not persisted): callers waiting, observations, and what each node agent is owed.
  // Empty and shared until first used, and emptied again after: most awake volumes wait for
  // nothing, and three empty maps per entity were a measurable share of its heap.
  private Map<Outbound.WaiterKind, List<ActorRef<VolumeReply>>> waiters = Map.of();
  private Map<String, VolumeViews.RaidHealth> raidHealth = Map.of();
  private CapacityView.Snapshot latestCapacity = NO_CAPACITY;
  private Map<String, AgentProtocol.Command> owed = Map.of();
  /** Cluster-wide rebuild admission, when the coordinator runs (not in single-entity tests). */
  private final Optional<RebuildGate> gate;
  /**
   * The record as of the latest decision, what it learnt without persisting included: the state
   * every decision starts from (and the gate computes what a rebuild loads from it).
   */
  private VolumeRecord current = VolumeRecord.absent();
  /** What the repair roster was last told of this volume (empty: nothing yet since start). */
  private Optional<Boolean> rosterTold = Optional.empty();

  private VirtualDisk(String volumeId, ActorContext<Command> ctx, TimerScheduler<Command> timers,
      ActorRef<CapacityView.Command> capacity, TopologySettings settings, HealingSettings healing,
      Optional<RebuildGate> gate) {
    super(PersistenceId.of(TYPE_KEY.name(), volumeId));
    this.volumeId = volumeId;
    this.ctx = ctx;
    this.timers = timers;
    this.capacity = capacity;
    this.settings = settings;
    this.healing = healing;
    this.gate = gate;
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
          current = state;
          retime(state);
          ctx.getSelf().tell(new Answer(new VolumeInput.Recovered()));
        })
        .build();
  }

  @Override
  public EventHandler<VolumeRecord, Event> eventHandler() {
    return (state, event) -> state.apply(event);
  }

  /**
   * One method reference per entity instead of the DSL's builder: the builder allocated a case
   * object and two lambdas per command type for every entity instance (about 1.3 KiB of each
   * active volume's heap, docs/benchmarks.md §4), while the dispatch below allocates nothing.
   */
  @Override
  public CommandHandler<Command, Event, VolumeRecord> commandHandler() {
    return this::onCommand;
  }

  /**
   * Decides on {@link #current}, not on the persisted state Pekko hands in: the latest decision's
   * record also holds what this incarnation learnt without persisting it
   * ({@link VolumeRecord.NotPersisted}).
   */
  private Effect<Event, VolumeRecord> onCommand(VolumeRecord persisted, Command command) {
    VolumeRecord s = current;
    if (command instanceof Answer c) {
      if (c.input() instanceof VolumeInput.CapacityArrived arrived) {
        latestCapacity = arrived.snapshot();
      }
      return run(s, c.input());
    } else if (command instanceof AgentReport c) {
      return onAgentReport(s, c);
    } else if (command instanceof AgentsFound c) {
      return onAgentsFound(s, c);
    } else if (command instanceof Tick) {
      return onTick(s);
    } else if (command instanceof ReportApplied c) {
      return run(s, new VolumeInput.Applied(c.nodeId(), c.revision()));
    } else if (command instanceof ReportApplyFailed c) {
      return run(s, new VolumeInput.ApplyFailed(c.nodeId(), c.revision(), c.error()));
    } else if (command instanceof ReportRemoved c) {
      return run(s, new VolumeInput.Removed(c.nodeId(), c.revision()));
    } else if (command instanceof ReportRaidStatus c) {
      return raid(s, new VolumeInput.RaidStatus(c.nodeId(), c.dmName(), c.health(), c.syncedSectors(),
          c.totalSectors()));
    } else if (command instanceof Create c) {
      return run(s, new VolumeInput.Create(c.spec()), Optional.of(c.replyTo()));
    } else if (command instanceof Get c) {
      return run(s, new VolumeInput.Get(), Optional.of(c.replyTo()));
    } else if (command instanceof Delete c) {
      return run(s, new VolumeInput.Delete(), Optional.of(c.replyTo()));
    } else if (command instanceof Attach c) {
      return run(s, new VolumeInput.Attach(c.hostNqn()), Optional.of(c.replyTo()));
    } else if (command instanceof Detach c) {
      return run(s, new VolumeInput.Detach(c.hostNqn()), Optional.of(c.replyTo()));
    } else if (command instanceof Resize c) {
      return run(s, new VolumeInput.Resize(c.newSizeBytes()), Optional.of(c.replyTo()));
    } else if (command instanceof ReportMemberLost c) {
      return withFreshCapacity(new VolumeInput.MemberLost(c.diskId(), c.reason()));
    } else if (command instanceof ReportNodeLost c) {
      return withFreshCapacity(new VolumeInput.NodeLost(c.nodeId(), c.reason()));
    } else if (command instanceof ReportNodeSeenAgain c) {
      return run(s, new VolumeInput.NodeSeenAgain(c.nodeId()), Optional.empty());
    } else if (command instanceof DrainNode c) {
      return withFreshCapacity(new VolumeInput.Drain(c.nodeId()));
    } else if (command instanceof FaultWithCapacity c) {
      latestCapacity = c.snapshot();
      return run(s, c.input());
    } else if (command instanceof CapacityRefreshed c) {
      latestCapacity = c.snapshot();
      return Effect().none();
    } else if (command instanceof StayAwake || command instanceof WakeForRepair) {
      return Effect().none();
    } else if (command instanceof ReportLinkLost c) {
      return withFreshCapacity(new VolumeInput.LinkLost(c.observer(), c.peer(), c.reason(), c.cutLinks()));
    } else if (command instanceof ReportControllerUnreachable c) {
      return withFreshCapacity(new VolumeInput.ControllerUnreachable(c.nodeId(), c.reason()));
    } else if (command instanceof RebuildPermitted c) {
      if (gate.isPresent()) {
        Optional<Outbound.RequestReplacementExtent> request = gate.get().admitted(s, c.lostTag());
        request.ifPresent(this::askReplacement);
      }
      return Effect().none();
    } else if (command instanceof TickScheduled c) {
      c.replyTo().tell(new TickState(timers.isTimerActive(TICK)));
      return Effect().none();
    }
    return Effect().unhandled();
  }

  private Effect<Event, VolumeRecord> onTick(VolumeRecord s) {
    if (s.healing().failingOver() || s.healing().rebuilds().values().stream()
        .anyMatch(r -> r.stage() != io.toma.healing.Rebuild.Stage.DONE) || StandbyReplacement.pending(s)) {
      // repairs (a missing standby too) place from the latest snapshot: keep it fresh while one is under way only
      ctx.ask(CapacityView.Snapshot.class, capacity, settings.askTimeout(), CapacityView.GetSnapshot::new,
          (snapshot, failure) -> new CapacityRefreshed(snapshot != null ? snapshot : latestCapacity));
    }
    gate.ifPresent(g -> {
      if (g.renew(s)) {
        sharding.entityRefFor(TYPE_KEY, volumeId).tell(new StayAwake()); // a passivated volume stops renewing
      }
    });
    return run(s, new VolumeInput.Tick());
  }

  // ---- the shell: decide, persist, then act ----

  private Effect<Event, VolumeRecord> withFreshCapacity(VolumeInput input) {
    ctx.ask(CapacityView.Snapshot.class, capacity, settings.askTimeout(), CapacityView.GetSnapshot::new,
        (snapshot, failure) -> new FaultWithCapacity(input, snapshot != null ? snapshot : latestCapacity));
    return Effect().none();
  }

  private Effect<Event, VolumeRecord> run(VolumeRecord state, VolumeInput input) {
    return run(state, input, Optional.empty());
  }

  private Effect<Event, VolumeRecord> run(VolumeRecord state, VolumeInput input, Optional<ActorRef<VolumeReply>> replyTo) {
    DecisionContext context = new DecisionContext(System.currentTimeMillis(), UUID.randomUUID().toString(), settings,
        healing, SafetyOverrides.SAFE, latestCapacity, raidHealth);
    VolumeDecider.Decision decision = VolumeDecider.decide(volumeId, state, input, context);
    replyTo.ifPresent(r -> {
      if (input instanceof VolumeInput.Create && VolumeDecider.createWaits(decision)) {
        waiter(Outbound.WaiterKind.CREATE, r);
      } else if (input instanceof VolumeInput.Resize && VolumeDecider.growWaits(decision)) {
        waiter(Outbound.WaiterKind.GROW, r);
      }
    });
    VolumeRecord after = decision.after();
    if (decision.events().isEmpty()) {
      current = after;
      perform(decision, replyTo);
      gate.ifPresent(g -> g.settle(after));
      tellRoster(after);
      retime(after);
      return Effect().none();
    }
    return Effect().persist(decision.events()).thenRun(persisted -> {
      // Keep one record per entity, not two: Pekko's when nothing was learnt beyond the journal.
      current = after.equals(persisted) ? persisted : after;
      perform(decision, replyTo);
      gate.ifPresent(g -> g.settle(after));
      tellRoster(after);
      retime(after);
    });
  }

  /**
   * The resend tick runs only while the volume owes something ({@link VolumeDecider#needsTick}):
   * an idle Online volume has no timer at all (docs/benchmarks.md §2 point 0). Anything that makes
   * it owe something again arrives as a command, which starts the tick.
   */
  private void retime(VolumeRecord state) {
    boolean needed = VolumeDecider.needsTick(state);
    if (needed && !timers.isTimerActive(TICK)) {
      timers.startTimerWithFixedDelay(TICK, TICK, settings.applyResendInterval());
    } else if (!needed && timers.isTimerActive(TICK)) {
      timers.cancel(TICK);
    }
    // A deferred failover (a converged active that must have fenced itself first) starts when its
    // wait ends, not at the next resend tick: up to a whole interval of I/O stall saved.
    state.healing().deferred().ifPresentOrElse(d -> {
      if (!timers.isTimerActive(DEFERRED_FAILOVER_DUE)) {
        timers.startSingleTimer(DEFERRED_FAILOVER_DUE, TICK,
            java.time.Duration.ofMillis(Math.max(0, d.notBeforeMillis() - System.currentTimeMillis())));
      }
    }, () -> timers.cancel(DEFERRED_FAILOVER_DUE));
  }

  private Effect<Event, VolumeRecord> raid(VolumeRecord state, VolumeInput.RaidStatus status) {
    if (raidHealth.isEmpty()) {
      raidHealth = new TreeMap<>();
    }
    raidHealth.put(status.dmName(), new VolumeViews.RaidHealth(status.health(), status.syncedSectors(),
        status.totalSectors()));
    return run(state, status);
  }

  private void perform(VolumeDecider.Decision decision, Optional<ActorRef<VolumeReply>> replyTo) {
    decision.reply().ifPresent(reply -> replyTo.ifPresent(r -> r.tell(reply)));
    for (Outbound out : decision.outbound()) {
      perform(out);
    }
  }

  private void perform(Outbound out) {
    if (out instanceof Outbound.FetchCapacity f) {
      ctx.ask(CapacityView.Snapshot.class, capacity, settings.askTimeout(), CapacityView.GetSnapshot::new,
          (snapshot, failure) -> new Answer(new VolumeInput.CapacityArrived(f.attempt(),
              snapshot != null ? snapshot : NO_CAPACITY)));
    } else if (out instanceof Outbound.RequestExtent r) {
      ctx.ask(PhysicalDisk.GrantReply.class, sharding.entityRefFor(PhysicalDisk.TYPE_KEY, r.disk().diskId()),
          settings.askTimeout(), replyTo -> new PhysicalDisk.Grant(volumeId, r.tag(), r.lengthBytes(), replyTo),
          (reply, failure) -> new Answer(new VolumeInput.ExtentAnswered(r.attempt(), r.slot(), r.disk(),
              Optional.ofNullable(reply))));
    } else if (out instanceof Outbound.RequestControllerSlot r) {
      ctx.ask(ControllerNode.SlotReply.class, sharding.entityRefFor(ControllerNode.TYPE_KEY, r.nodeId()),
          settings.askTimeout(), replyTo -> new ControllerNode.HostController(volumeId, r.role(), replyTo),
          (reply, failure) -> new Answer(new VolumeInput.SlotAnswered(r.attempt(), r.nodeId(), r.role(),
              Optional.ofNullable(reply))));
    } else if (out instanceof Outbound.RequestReplacementExtent r) {
      if (gate.isPresent()) {
        gate.get().ask(current, r); // sent once the coordinator admits the rebuild
      } else {
        askReplacement(r);
      }
    } else if (out instanceof Outbound.RequestStandbySlot r) {
      ctx.ask(ControllerNode.SlotReply.class, sharding.entityRefFor(ControllerNode.TYPE_KEY, r.nodeId()),
          settings.askTimeout(), replyTo -> new ControllerNode.HostController(volumeId, ControllerRole.STANDBY, replyTo),
          (reply, failure) -> new Answer(new VolumeInput.StandbySlotAnswered(r.nodeId(), Optional.ofNullable(reply))));
    } else if (out instanceof Outbound.GrowExtent g) {
      ctx.ask(PhysicalDisk.GrantReply.class, sharding.entityRefFor(PhysicalDisk.TYPE_KEY, g.diskId()),
          settings.askTimeout(), replyTo -> new PhysicalDisk.Grow(volumeId, g.tag(), g.newLengthBytes(), replyTo),
          (reply, failure) -> new Answer(new VolumeInput.GrowAnswered(g.member(), Optional.ofNullable(reply))));
    } else if (out instanceof Outbound.ReleaseExtents r) {
      if (r.confirmTarget().isEmpty()) {
        sharding.entityRefFor(PhysicalDisk.TYPE_KEY, r.diskId()).tell(
            new PhysicalDisk.Release(volumeId, r.keepTags(), ctx.getSystem().ignoreRef()));
      } else {
        ctx.ask(PhysicalDisk.Released.class, sharding.entityRefFor(PhysicalDisk.TYPE_KEY, r.diskId()),
            settings.askTimeout(), replyTo -> new PhysicalDisk.Release(volumeId, r.keepTags(), replyTo),
            (ok, failure) -> new Answer(new VolumeInput.ReleaseAnswered(r.confirmTarget(), ok != null)));
      }
    } else if (out instanceof Outbound.ReleaseControllerSlot r) {
      if (r.confirmTarget().isEmpty()) {
        sharding.entityRefFor(ControllerNode.TYPE_KEY, r.nodeId()).tell(
            new ControllerNode.ReleaseController(volumeId, ctx.getSystem().ignoreRef()));
      } else {
        ctx.ask(ControllerNode.NodeReply.class, sharding.entityRefFor(ControllerNode.TYPE_KEY, r.nodeId()),
            settings.askTimeout(), replyTo -> new ControllerNode.ReleaseController(volumeId, replyTo),
            (ok, failure) -> new Answer(new VolumeInput.ReleaseAnswered(r.confirmTarget(), ok != null)));
      }
    } else if (out instanceof Outbound.ApplyToNode a) {
      owe(a.nodeId(), new AgentProtocol.Apply(volumeId, a.revision(), a.desired(), reportAdapter));
    } else if (out instanceof Outbound.RemoveFromNode r) {
      owe(r.nodeId(), new AgentProtocol.Remove(volumeId, r.revision(), reportAdapter));
    } else if (out instanceof Outbound.AnswerWaiters w) {
      List<ActorRef<VolumeReply>> waiting = waiters.getOrDefault(w.kind(), List.of());
      if (!waiting.isEmpty()) {
        waiters.remove(w.kind());
        waiting.forEach(r -> r.tell(w.reply()));
      }
      if (waiters.isEmpty()) {
        waiters = Map.of();
      }
    } else if (out instanceof Outbound.UpdateIndex u) {
      sharding.entityRefFor(VolumeIndex.TYPE_KEY, VolumeIndex.ID).tell(
          u.present() ? new VolumeIndex.Add(volumeId) : new VolumeIndex.Remove(volumeId));
    } else if (out instanceof Outbound.StayAwake) {
      sharding.entityRefFor(TYPE_KEY, volumeId).tell(new StayAwake());
    } else if (out instanceof Outbound.Publish p) {
      ctx.getLog().info("volume {}: {}", volumeId, p.message());
      TomaEvents.publish(ctx.getSystem(), new TomaEvent(p.kind(), volumeId, p.message(), System.currentTimeMillis()));
    } else if (out instanceof Outbound.Log l) {
      if (l.level().equals("warn")) {
        ctx.getLog().warn("volume {}: {}", volumeId, l.message());
      } else {
        ctx.getLog().info("volume {}: {}", volumeId, l.message());
      }
    }
  }

  /**
   * Keep the repair roster true: a volume with a failover or rebuild under way is on it (so it is
   * woken after a manager restart), one without is not. Told on change only (and once after start).
   */
  private void tellRoster(VolumeRecord state) {
    if (gate.isEmpty()) {
      return; // not wired to the cluster's healing singletons (single-entity tests)
    }
    boolean repairing = state.phase() == VolumeRecord.Phase.PLACED && (state.healing().failingOver()
        || state.healing().rebuilds().values().stream().anyMatch(r -> r.stage() != io.toma.healing.Rebuild.Stage.DONE));
    if (rosterTold.equals(Optional.of(repairing))) {
      return;
    }
    rosterTold = Optional.of(repairing);
    var roster = sharding.entityRefFor(io.toma.healing.RepairRoster.TYPE_KEY, io.toma.healing.RepairRoster.ID);
    roster.tell(repairing ? new io.toma.healing.RepairRoster.Enter(volumeId)
        : new io.toma.healing.RepairRoster.Leave(volumeId));
  }

  private void askReplacement(Outbound.RequestReplacementExtent r) {
    ctx.ask(PhysicalDisk.GrantReply.class, sharding.entityRefFor(PhysicalDisk.TYPE_KEY, r.disk().diskId()),
        settings.askTimeout(), replyTo -> new PhysicalDisk.Grant(volumeId, r.tag(), r.lengthBytes(), replyTo),
        (reply, failure) -> new Answer(new VolumeInput.ReplacementAnswered(r.lostTag(), r.disk(), r.generation(),
            Optional.ofNullable(reply))));
  }

  private void waiter(Outbound.WaiterKind kind, ActorRef<VolumeReply> replyTo) {
    if (waiters.isEmpty()) {
      waiters = new EnumMap<>(Outbound.WaiterKind.class);
    }
    waiters.computeIfAbsent(kind, k -> new ArrayList<>(1)).add(replyTo);
  }

  /** The node acknowledged: it is owed nothing now. */
  private void settle(String nodeId) {
    if (owed.containsKey(nodeId)) {
      owed.remove(nodeId);
      if (owed.isEmpty()) {
        owed = Map.of();
      }
    }
  }

  /** Remember what the node's agent is owed and look the agent up; the listing delivers it. */
  private void owe(String nodeId, AgentProtocol.Command command) {
    if (owed.isEmpty()) {
      owed = new TreeMap<>();
    }
    owed.put(nodeId, command);
    ctx.getSystem().receptionist().tell(Receptionist.find(AgentProtocol.agentKey(nodeId), listingAdapter));
  }

  private Effect<Event, VolumeRecord> onAgentsFound(VolumeRecord state, AgentsFound msg) {
    String keyId = msg.listing().getKey().id();
    String nodeId = keyId.substring("toma-agent-".length());
    Set<ActorRef<AgentProtocol.Command>> agents = msg.listing().getServiceInstances(AgentProtocol.agentKey(nodeId));
    AgentProtocol.Command command = owed.get(nodeId);
    if (command != null) {
      agents.forEach(a -> a.tell(command));
    }
    return Effect().none();
  }

  private Effect<Event, VolumeRecord> onAgentReport(VolumeRecord state, AgentReport msg) {
    AgentProtocol.Report report = msg.report();
    if (report instanceof AgentProtocol.Applied a && a.volumeId().equals(volumeId)) {
      settle(a.nodeId());
      return run(state, new VolumeInput.Applied(a.nodeId(), a.revision()));
    }
    if (report instanceof AgentProtocol.ApplyFailed f && f.volumeId().equals(volumeId)) {
      return run(state, new VolumeInput.ApplyFailed(f.nodeId(), f.revision(), f.error()));
    }
    if (report instanceof AgentProtocol.Removed r && r.volumeId().equals(volumeId)) {
      settle(r.nodeId());
      return run(state, new VolumeInput.Removed(r.nodeId(), r.revision()));
    }
    if (report instanceof AgentProtocol.RaidMemberStatus r && r.volumeId().equals(volumeId)) {
      return raid(state, new VolumeInput.RaidStatus(r.nodeId(), r.dmName(), r.health(), r.syncedSectors(),
          r.totalSectors()));
    }
    return Effect().none();
  }
}
