package io.toma.agent;

import io.toma.agent.AgentProtocol.Applied;
import io.toma.agent.AgentProtocol.ApplyFailed;
import io.toma.agent.AgentProtocol.DiskInfo;
import io.toma.agent.AgentProtocol.NodeRegistered;
import io.toma.agent.AgentProtocol.NodeStatus;
import io.toma.agent.AgentProtocol.PlanRendered;
import io.toma.agent.AgentProtocol.Removed;
import io.toma.agent.AgentProtocol.Report;
import io.toma.agent.AgentProtocol.VolumeRevision;
import io.toma.agent.DesiredStore.StoredVolume;
import io.toma.agent.watch.DiskWatcher;
import io.toma.agent.watch.PathWatcher;
import io.toma.agent.watch.RaidWatcher;
import io.toma.agent.watch.WatchStep;
import io.toma.kernel.DesiredState;
import io.toma.kernel.Kernel;
import io.toma.kernel.Kernel.BlockDeviceInfo;
import io.toma.kernel.KernelException;
import io.toma.kernel.KernelOp;
import io.toma.kernel.KernelState;
import io.toma.kernel.Validation;
import io.toma.kernel.plan.ShellPlan;
import io.toma.kernel.reconcile.AppliedRecord;
import io.toma.kernel.reconcile.DesiredUnion;
import io.toma.kernel.reconcile.Reconciler;
import java.io.IOException;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Executor;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.Behavior;
import org.apache.pekko.actor.typed.DispatcherSelector;
import org.apache.pekko.actor.typed.javadsl.AbstractBehavior;
import org.apache.pekko.actor.typed.javadsl.ActorContext;
import org.apache.pekko.actor.typed.javadsl.Behaviors;
import org.apache.pekko.actor.typed.javadsl.Receive;
import org.apache.pekko.actor.typed.javadsl.StashBuffer;
import org.apache.pekko.actor.typed.javadsl.TimerScheduler;
import org.apache.pekko.actor.typed.receptionist.Receptionist;

/**
 * The agent of one storage node: holds the newest desired state per volume durably on the node,
 * reconciles the kernel towards their union, and reports applied revisions and faults to whatever
 * registered under {@link AgentProtocol#REPORTS}. A thin shell: the diff is
 * {@link Reconciler}, the fault classification is the watchers; this actor only orders calls,
 * runs the kernel on the blocking dispatcher (one reconcile at a time; requests arriving meanwhile
 * are coalesced into the next one) and sends messages.
 *
 * <p>Start: load the store, then register, then reconcile. Garbage collection of Toma objects
 * happens inside that reconcile, so it never runs before the agent knows the full desired state.
 */
public final class NodeAgent extends AbstractBehavior<Object> {

  /** A physical disk of this node, as it is registered with the control plane. */
  public record DiskSpec(String diskId, String devicePath) {}

  /** Who the node is and how the agent behaves. */
  public record Settings(
      String nodeId,
      Set<String> roles,
      String zone,
      String rack,
      String fabricAddress,
      String hostNqn,
      List<DiskSpec> disks,
      Path dataDir,
      Duration reconcileInterval,
      Duration watchInterval,
      Duration pathGrace,
      String configfsRoot,
      Clock clock,
      Duration selfFenceTimeout) {

    public Settings {
      roles = Set.copyOf(roles);
      disks = List.copyOf(disks);
    }

    /**
     * Defaults: re-reconcile every 30 s, watch every 2 s, 10 s grace for a path, self-fence after
     * 3 s without a majority in sight (below the host I/O timeout, see {@link SelfFence}).
     */
    public static Settings of(String nodeId, Set<String> roles, String zone, String rack,
        String fabricAddress, String hostNqn, List<DiskSpec> disks, Path dataDir) {
      return new Settings(nodeId, roles, zone, rack, fabricAddress, hostNqn, disks, dataDir,
          Duration.ofSeconds(30), Duration.ofSeconds(2), Duration.ofSeconds(10),
          ShellPlan.DEFAULT_CONFIGFS, Clock.systemUTC(), Duration.ofSeconds(3));
    }

    public Settings withIntervals(Duration reconcile, Duration watch, Duration grace) {
      return new Settings(nodeId, roles, zone, rack, fabricAddress, hostNqn, disks, dataDir, reconcile,
          watch, grace, configfsRoot, clock, selfFenceTimeout);
    }

    public Settings withConfigfsRoot(String root) {
      return new Settings(nodeId, roles, zone, rack, fabricAddress, hostNqn, disks, dataDir,
          reconcileInterval, watchInterval, pathGrace, root, clock, selfFenceTimeout);
    }

    public Settings withClock(Clock c) {
      return new Settings(nodeId, roles, zone, rack, fabricAddress, hostNqn, disks, dataDir,
          reconcileInterval, watchInterval, pathGrace, configfsRoot, c, selfFenceTimeout);
    }

    public Settings withSelfFenceTimeout(Duration timeout) {
      return new Settings(nodeId, roles, zone, rack, fabricAddress, hostNqn, disks, dataDir,
          reconcileInterval, watchInterval, pathGrace, configfsRoot, clock, timeout);
    }

    Map<String, String> diskPaths() {
      Map<String, String> m = new TreeMap<>();
      disks.forEach(d -> m.put(d.diskId(), d.devicePath()));
      return m;
    }
  }

  /** The agent's behavior; spawn it once per storage node. */
  public static Behavior<AgentProtocol.Command> create(Settings settings, Kernel kernel) {
    return create(settings, kernel, MembershipFeed.cluster());
  }

  /** With the cluster membership it self-fences on given explicitly (tests, simulations). */
  public static Behavior<AgentProtocol.Command> create(Settings settings, Kernel kernel, MembershipFeed feed) {
    Behavior<Object> b = Behaviors.setup(ctx -> Behaviors.withTimers(timers -> Behaviors.withStash(10_000,
        stash -> starting(ctx, timers, stash, settings, kernel, feed))));
    return b.narrow();
  }

  // ---- internal messages ----
  private record Loaded(Map<String, StoredVolume> volumes, AppliedRecord record, List<DiskInfo> disks) {}

  private record LoadFailed(String error) {}

  private record RetryLoad() {}

  private enum ReconcileTick { INSTANCE }

  private enum WatchTick { INSTANCE }

  /** What one reconcile did. */
  private record Outcome(
      Map<String, Long> revisions, List<KernelOp> applied, Optional<String> error,
      AppliedRecord record, boolean stored) {}

  private record ReconcileDone(Outcome outcome) {}

  private record Observation(KernelState state, List<BlockDeviceInfo> devices, long nowMillis) {}

  private record WatchDone(Optional<Observation> observation, String error) {}

  private record SinksListed(Receptionist.Listing listing) {}

  private record PlanDone(ActorRef<PlanRendered> replyTo, String script) {}

  private record Waiter(String volumeId, boolean remove, ActorRef<Report> replyTo) {}

  // ---- start ----

  private static Behavior<Object> starting(ActorContext<Object> ctx, TimerScheduler<Object> timers,
      StashBuffer<Object> stash, Settings settings, Kernel kernel, MembershipFeed feed) {
    Executor blocking = ctx.getSystem().dispatchers().lookup(DispatcherSelector.blocking());
    DesiredStore store = new DesiredStore(settings.dataDir());
    Runnable load = () -> ctx.pipeToSelf(CompletableFuture.supplyAsync(() -> {
      try {
        Map<String, StoredVolume> volumes = store.loadVolumes();
        AppliedRecord record = store.loadRecord();
        return (Object) new Loaded(volumes, record, diskInfo(settings, kernel));
      } catch (Exception e) {
        return new LoadFailed(e.toString());
      }
    }, blocking), (msg, err) -> err != null ? new LoadFailed(err.toString()) : msg);
    load.run();
    return Behaviors.receive(Object.class)
        .onMessage(Loaded.class, l -> stash.unstashAll(
            new NodeAgent(ctx, timers, settings, kernel, store, blocking, l).started(feed)))
        .onMessage(LoadFailed.class, f -> {
          ctx.getLog().error("node {}: cannot load its desired-state store ({}); retrying, and "
              + "touching nothing in the kernel until it loads", settings.nodeId(), f.error());
          timers.startSingleTimer(new RetryLoad(), settings.watchInterval());
          return Behaviors.same();
        })
        .onMessage(RetryLoad.class, r -> {
          load.run();
          return Behaviors.same();
        })
        .onAnyMessage(m -> {
          stash.stash(m);
          return Behaviors.same();
        })
        .build();
  }

  private static List<DiskInfo> diskInfo(Settings settings, Kernel kernel) throws KernelException {
    List<String> paths = settings.disks().stream().map(DiskSpec::devicePath).toList();
    List<BlockDeviceInfo> infos = kernel.blockDevices(paths);
    return toDiskInfo(settings, infos);
  }

  private static List<DiskInfo> toDiskInfo(Settings settings, List<BlockDeviceInfo> infos) {
    Map<String, BlockDeviceInfo> byPath = new TreeMap<>();
    infos.forEach(i -> byPath.put(i.path(), i));
    List<DiskInfo> out = new ArrayList<>();
    for (DiskSpec d : settings.disks()) {
      BlockDeviceInfo i = byPath.get(d.devicePath());
      out.add(new DiskInfo(d.diskId(), i == null ? 0 : i.sizeBytes(), d.devicePath(), i != null && i.present()));
    }
    return out;
  }

  // ---- running ----

  private final TimerScheduler<Object> timers;
  private final Settings settings;
  private final Kernel kernel;
  private final DesiredStore store;
  private final Executor blocking;
  private final Map<String, String> diskPaths;

  private final Map<String, StoredVolume> volumes;
  private AppliedRecord record;
  private List<DiskInfo> disks;
  private final Map<String, Long> appliedRevision = new TreeMap<>();
  private final Map<String, String> lastError = new TreeMap<>();
  private final Set<String> unsaved = new TreeSet<>();
  private List<Waiter> waitingNext = new ArrayList<>();
  private List<Waiter> waitingCurrent = new ArrayList<>();
  private boolean reconciling;
  private boolean pending;
  private boolean watching;
  private Set<ActorRef<Report>> sinks = Set.of();
  private DiskWatcher diskWatcher;
  private PathWatcher pathWatcher;
  private RaidWatcher raidWatcher;
  private boolean membershipFed;
  private SelfFence.State fence = SelfFence.State.serving();
  private SelfFence.Membership lastSeen = new SelfFence.Membership(1, 1, false);

  private NodeAgent(ActorContext<Object> ctx, TimerScheduler<Object> timers, Settings settings,
      Kernel kernel, DesiredStore store, Executor blocking, Loaded loaded) {
    super(ctx);
    this.timers = timers;
    this.settings = settings;
    this.kernel = kernel;
    this.store = store;
    this.blocking = blocking;
    this.diskPaths = settings.diskPaths();
    this.volumes = new TreeMap<>(loaded.volumes());
    this.record = loaded.record();
    this.disks = loaded.disks();
    this.diskWatcher = DiskWatcher.start(settings.nodeId(), 2);
    this.pathWatcher = PathWatcher.start(settings.nodeId(), settings.pathGrace());
    this.raidWatcher = RaidWatcher.start(settings.nodeId());
  }

  private Behavior<Object> started(MembershipFeed feed) {
    ActorContext<Object> ctx = getContext();
    membershipFed = feed.start(ctx, ctx.messageAdapter(SelfFence.Membership.class, m -> m));
    if (membershipFed && !held().isEmpty()) {
      // A restart inside a cluster: whatever this node served before, the majority may have moved
      // on meanwhile; it serves no active export until the manager sends it a state again.
      fence = SelfFence.State.restarted(held().keySet());
      ctx.getLog().warn("node {}: restarted in a cluster: controller exports stay inaccessible until the "
          + "manager sends a state", settings.nodeId());
    }
    ActorRef<AgentProtocol.Command> self = ctx.getSelf().narrow();
    ctx.getSystem().receptionist().tell(Receptionist.register(AgentProtocol.agentKey(settings.nodeId()), self));
    ctx.getSystem().receptionist().tell(Receptionist.register(AgentProtocol.ALL_AGENTS, self));
    // Subscribe through an adapter, not self: the local receptionist fails when one actor both
    // registers and subscribes (it watches it twice with different termination messages).
    ActorRef<Receptionist.Listing> listings = ctx.messageAdapter(Receptionist.Listing.class, SinksListed::new);
    ctx.getSystem().receptionist().tell(Receptionist.subscribe(AgentProtocol.REPORTS, listings));
    ctx.getLog().info("node {}: agent started holding {} volume(s); reconciling the kernel (adopting what "
        + "is there, collecting Toma orphans)", settings.nodeId(), held().size());
    timers.startTimerWithFixedDelay(ReconcileTick.INSTANCE, settings.reconcileInterval());
    timers.startTimerWithFixedDelay(WatchTick.INSTANCE, settings.watchInterval());
    requestReconcile();
    return this;
  }

  @Override
  public Receive<Object> createReceive() {
    return newReceiveBuilder()
        .onMessage(AgentProtocol.Apply.class, this::onApply)
        .onMessage(AgentProtocol.Remove.class, this::onRemove)
        .onMessage(AgentProtocol.RenderPlan.class, this::onRenderPlan)
        .onMessage(AgentProtocol.GetNodeStatus.class, this::onStatus)
        .onMessage(SinksListed.class, l -> onListing(l.listing()))
        .onMessage(ReconcileDone.class, this::onReconcileDone)
        .onMessage(PlanDone.class, p -> {
          p.replyTo().tell(new PlanRendered(settings.nodeId(), p.script()));
          return this;
        })
        .onMessage(WatchDone.class, this::onWatchDone)
        .onMessage(SelfFence.Membership.class, this::onMembership)
        .onMessageEquals(ReconcileTick.INSTANCE, () -> {
          requestReconcile();
          return this;
        })
        .onMessageEquals(WatchTick.INSTANCE, this::onWatchTick)
        .build();
  }

  // ---- commands ----

  private Behavior<Object> onApply(AgentProtocol.Apply a) {
    if (a.volumeId() != null && fence.fenced()) {
      SelfFence.Step step = SelfFence.stateReceived(fence, a.volumeId(), a.revision());
      fence = step.state();
      if (step.decision() instanceof SelfFence.Reinstate) {
        getContext().getLog().info("node {}: reinstated by the manager (volume {} revision {}); serving "
            + "its desired states again", settings.nodeId(), a.volumeId(), a.revision());
        requestReconcile();
      }
    }
    StoredVolume current = a.volumeId() == null ? null : volumes.get(a.volumeId());
    if (current != null && a.revision() <= current.revision()) {
      answerHeld(current, a.replyTo());
      return this;
    }
    Optional<String> refusal = refusal(a);
    if (refusal.isPresent()) {
      getContext().getLog().warn("node {}: volume {} revision {} refused, kernel untouched: {}",
          settings.nodeId(), a.volumeId(), a.revision(), refusal.get());
      ApplyFailed failed = new ApplyFailed(settings.nodeId(), a.volumeId(), a.revision(), refusal.get());
      a.replyTo().tell(failed);
      report(failed, a.replyTo());
      return this;
    }
    volumes.put(a.volumeId(), new StoredVolume(a.volumeId(), a.revision(), Optional.of(a.desired())));
    unsaved.add(a.volumeId());
    waitingNext.add(new Waiter(a.volumeId(), false, a.replyTo()));
    requestReconcile();
    return this;
  }

  /** Bad input is refused before it is stored: nothing of it reaches the store or the kernel. */
  private Optional<String> refusal(AgentProtocol.Apply a) {
    if (a.volumeId() == null || a.desired() == null) {
      return Optional.of("an apply needs a volume id and a desired state");
    }
    try {
      Validation.diskId(a.volumeId());
      if (!a.desired().volumeId().equals(a.volumeId())) {
        return Optional.of("desired state is for volume " + a.desired().volumeId() + ", not " + a.volumeId());
      }
      Validation.desired(a.desired());
      Map<String, DesiredState> union = held();
      union.put(a.volumeId(), a.desired());
      DesiredUnion.of(union, diskPaths).dmBottomUp();
      return Optional.empty();
    } catch (KernelException e) {
      return Optional.of(e.getMessage());
    }
  }

  private Behavior<Object> onRemove(AgentProtocol.Remove r) {
    StoredVolume current = volumes.get(r.volumeId());
    if (current != null && r.revision() <= current.revision()) {
      answerHeld(current, r.replyTo());
      return this;
    }
    try {
      Validation.diskId(r.volumeId());
    } catch (KernelException e) {
      r.replyTo().tell(new ApplyFailed(settings.nodeId(), r.volumeId(), r.revision(), e.getMessage()));
      return this;
    }
    volumes.put(r.volumeId(), new StoredVolume(r.volumeId(), r.revision(), Optional.empty()));
    fence = SelfFence.volumeRemoved(fence, r.volumeId());
    unsaved.add(r.volumeId());
    waitingNext.add(new Waiter(r.volumeId(), true, r.replyTo()));
    requestReconcile();
    return this;
  }

  /** An old or repeated request: answer with what is held, once it is applied. */
  private void answerHeld(StoredVolume current, ActorRef<Report> replyTo) {
    boolean applied = appliedRevision.getOrDefault(current.volumeId(), -1L) >= current.revision();
    if (!applied) {
      waitingNext.add(new Waiter(current.volumeId(), current.desired().isEmpty(), replyTo));
      requestReconcile();
    } else if (current.desired().isEmpty()) {
      replyTo.tell(new Removed(settings.nodeId(), current.volumeId(), current.revision()));
    } else {
      replyTo.tell(new Applied(settings.nodeId(), current.volumeId(), current.revision()));
      // a manager asking again for what it was told may have restarted and lost the raid health
      // it was sent (a rebuild waits on it): report the volume's raid devices again
      String prefix = "toma-" + current.volumeId() + "-";
      raidWatcher = raidWatcher.forget(device -> device.startsWith(prefix));
    }
  }

  private Behavior<Object> onRenderPlan(AgentProtocol.RenderPlan r) {
    Map<String, DesiredState> held = reconciled();
    AppliedRecord rec = record;
    ShellPlan plan = new ShellPlan(settings.configfsRoot(), diskPaths);
    getContext().pipeToSelf(CompletableFuture.supplyAsync(() -> {
      try {
        List<KernelOp> ops = Reconciler.diff(held, kernel.read(), diskPaths, rec);
        return plan.render(settings.nodeId(), ops);
      } catch (KernelException e) {
        return "#!/bin/sh\n# Toma plan for node " + settings.nodeId() + " cannot be made: "
            + e.getMessage().replaceAll("[\\r\\n]", " ") + "\nexit 1\n";
      }
    }, blocking), (script, err) -> new PlanDone(r.replyTo(),
        err != null ? "#!/bin/sh\n# plan failed: " + err.toString().replaceAll("[\\r\\n]", " ") + "\nexit 1\n" : script));
    return this;
  }

  private Behavior<Object> onStatus(AgentProtocol.GetNodeStatus s) {
    List<VolumeRevision> out = new ArrayList<>();
    for (StoredVolume v : volumes.values()) {
      if (v.desired().isPresent()) {
        out.add(new VolumeRevision(v.volumeId(), v.revision(),
            appliedRevision.getOrDefault(v.volumeId(), -1L) >= v.revision(),
            lastError.getOrDefault(v.volumeId(), "")));
      }
    }
    s.replyTo().tell(new NodeStatus(settings.nodeId(), disks, out));
    return this;
  }

  private Behavior<Object> onListing(Receptionist.Listing listing) {
    if (!listing.isForKey(AgentProtocol.REPORTS)) {
      return this;
    }
    Set<ActorRef<Report>> now = Set.copyOf(listing.getServiceInstances(AgentProtocol.REPORTS));
    if (!now.equals(sinks)) {
      Set<ActorRef<Report>> fresh = new java.util.HashSet<>(now);
      fresh.removeAll(sinks);
      sinks = now;
      NodeRegistered registered = registration();
      sinks.forEach(s -> s.tell(registered));
      // A sink seen for the first time may have missed what was applied before it was known (the
      // startup reconcile can finish before the receptionist's first listing arrives, and a
      // restarted manager has lost nothing but needs to hear it): tell it every held revision.
      List<Report> held = heldRevisions();
      fresh.forEach(sink -> held.forEach(sink::tell));
    }
    return this;
  }

  private NodeRegistered registration() {
    return new NodeRegistered(settings.nodeId(), settings.roles(), settings.zone(), settings.rack(),
        settings.fabricAddress(), settings.hostNqn(), disks, getContext().getSelf().narrow(), fence.fenced());
  }

  // ---- reconcile ----

  private void requestReconcile() {
    if (reconciling || watching) { // one kernel caller at a time: the watch read ends first
      pending = true;
    } else {
      startReconcile();
    }
  }

  private void startReconcile() {
    reconciling = true;
    pending = false;
    waitingCurrent = waitingNext;
    waitingNext = new ArrayList<>();
    Map<String, DesiredState> held = reconciled();
    Map<String, Long> revisions = new TreeMap<>();
    volumes.values().forEach(v -> revisions.put(v.volumeId(), v.revision()));
    List<StoredVolume> toSave = unsaved.stream().map(volumes::get).toList();
    unsaved.clear();
    AppliedRecord start = record;
    getContext().pipeToSelf(
        CompletableFuture.supplyAsync(() -> reconcile(toSave, held, revisions, start), blocking),
        (outcome, err) -> new ReconcileDone(err != null
            ? new Outcome(revisions, List.of(), Optional.of(err.toString()), start, false) : outcome));
  }

  /** Runs on the blocking dispatcher: store first, then read, diff, apply. */
  private Outcome reconcile(List<StoredVolume> toSave, Map<String, DesiredState> held,
      Map<String, Long> revisions, AppliedRecord start) {
    try {
      for (StoredVolume v : toSave) {
        store.save(v);
      }
    } catch (Exception e) {
      return new Outcome(revisions, List.of(), Optional.of("cannot store the desired state durably: " + e), start, false);
    }
    AppliedRecord rec = start;
    List<KernelOp> done = new ArrayList<>();
    Optional<String> error = Optional.empty();
    try {
      List<KernelOp> ops = Reconciler.diff(held, kernel.read(), diskPaths, rec);
      boolean wiped = false;
      for (KernelOp op : ops) {
        kernel.apply(op);
        rec = rec.after(op);
        done.add(op);
        if (op instanceof KernelOp.ZeroSectors) {
          wiped = true;
        } else if (wiped && op instanceof KernelOp.DmCreate) {
          // The wiped device is recorded as made before anything can export it and write to it:
          // after a crash from here on, re-creating it must not wipe it again.
          store.saveRecord(rec);
          wiped = false;
        }
      }
      rec = rec.withEpochsOf(held);
    } catch (KernelException | IOException | RuntimeException e) {
      error = Optional.of(e.getMessage() == null ? e.toString() : e.getMessage());
    }
    try {
      if (!rec.equals(start)) {
        store.saveRecord(rec);
      }
    } catch (Exception e) {
      error = Optional.of(error.map(s -> s + "; ").orElse("") + "cannot store the applied record: " + e);
    }
    return new Outcome(revisions, List.copyOf(done), error, rec, true);
  }

  private Behavior<Object> onReconcileDone(ReconcileDone done) {
    Outcome o = done.outcome();
    reconciling = false;
    record = o.record();
    if (!o.stored()) {
      // not durable: keep them to save on the next round, which must come
      o.revisions().keySet().stream().filter(volumes::containsKey).forEach(unsaved::add);
      pending = true;
    }
    if (!o.applied().isEmpty() || o.error().isPresent()) {
      getContext().getLog().info("node {}: reconcile applied {} operation(s){}", settings.nodeId(),
          o.applied().size(), o.error().map(e -> ", then failed: " + e).orElse(""));
    }
    Map<String, Report> answers = new LinkedHashMap<>();
    for (Map.Entry<String, Long> r : o.revisions().entrySet()) {
      String volume = r.getKey();
      long revision = r.getValue();
      StoredVolume v = volumes.get(volume);
      boolean removal = v != null && v.desired().isEmpty();
      if (o.error().isEmpty()) {
        Long before = appliedRevision.put(volume, revision);
        lastError.remove(volume);
        Report ok = removal ? new Removed(settings.nodeId(), volume, revision)
            : new Applied(settings.nodeId(), volume, revision);
        answers.put(volume, ok);
        if (before == null || before != revision) {
          report(ok, null);
        }
      } else if (appliedRevision.getOrDefault(volume, -1L) < revision) {
        String error = o.error().get();
        ApplyFailed failed = new ApplyFailed(settings.nodeId(), volume, revision, error);
        answers.put(volume, failed);
        if (!error.equals(lastError.put(volume, error))) {
          report(failed, null);
        }
      } else {
        answers.put(volume, removal ? new Removed(settings.nodeId(), volume, revision)
            : new Applied(settings.nodeId(), volume, revision));
      }
    }
    for (Waiter w : waitingCurrent) {
      Report answer = answers.get(w.volumeId());
      if (answer != null) {
        w.replyTo().tell(answer);
      }
    }
    waitingCurrent = new ArrayList<>();
    if (pending || !waitingNext.isEmpty()) {
      startReconcile();
    }
    return this;
  }

  // ---- watching ----

  // ---- self-fencing ----

  private Behavior<Object> onMembership(SelfFence.Membership seen) {
    lastSeen = seen;
    observeFence();
    return this;
  }

  /** On every membership view and every watch tick: a lost majority fences once the timeout passed. */
  private void observeFence() {
    if (!membershipFed) {
      return;
    }
    Map<String, Long> revisions = new TreeMap<>();
    volumes.values().stream().filter(v -> v.desired().isPresent()) // a removed volume has nothing to fence
        .forEach(v -> revisions.put(v.volumeId(), v.revision()));
    boolean fencedCutOff = fence.fenced() && !fence.majority();
    SelfFence.Step step = SelfFence.observe(fence, lastSeen, settings.clock().millis(),
        settings.selfFenceTimeout(), revisions);
    fence = step.state();
    if (fencedCutOff && fence.fenced() && fence.majority()) {
      // Back in sight of a majority while fenced: register again, so the manager hands this node
      // a newer revision (a replay of the one it fenced at never lifts the fence).
      getContext().getLog().info("node {}: a majority is in sight again; registering so the manager "
          + "sends a newer desired state", settings.nodeId());
      NodeRegistered registered = registration();
      sinks.forEach(sink -> sink.tell(registered));
    }
    if (step.decision() instanceof SelfFence.FenceNow now) {
      getContext().getLog().warn("node {}: self-fencing, controller exports go inaccessible: {}",
          settings.nodeId(), now.reason());
      requestReconcile();
    }
  }

  /** The desired states as reconciled: the stored ones, overridden to inaccessible when fenced. */
  private Map<String, DesiredState> reconciled() {
    return SelfFence.reconciledView(fence, held());
  }

  private Behavior<Object> onWatchTick() {
    observeFence();
    // The kernel is driven by one caller at a time: a watch read waits for the reconcile to end.
    if (watching || reconciling) {
      return this;
    }
    watching = true;
    List<String> paths = settings.disks().stream().map(DiskSpec::devicePath).toList();
    Clock clock = settings.clock();
    getContext().pipeToSelf(CompletableFuture.supplyAsync(() -> {
      try {
        return new WatchDone(Optional.of(new Observation(kernel.read(), kernel.blockDevices(paths),
            clock.millis())), "");
      } catch (KernelException e) {
        return new WatchDone(Optional.empty(), e.getMessage());
      }
    }, blocking), (w, err) -> err != null ? new WatchDone(Optional.empty(), err.toString()) : w);
    return this;
  }

  private Behavior<Object> onWatchDone(WatchDone w) {
    watching = false;
    if (pending || !waitingNext.isEmpty()) {
      startReconcile();
    }
    if (w.observation().isEmpty()) {
      getContext().getLog().warn("node {}: could not read the kernel to watch it: {}", settings.nodeId(), w.error());
      return this;
    }
    Observation obs = w.observation().get();
    disks = toDiskInfo(settings, obs.devices());
    List<Report> reports = new ArrayList<>();

    WatchStep<DiskWatcher> d = diskWatcher.observe(diskPaths, obs.devices());
    diskWatcher = d.next();
    reports.addAll(d.reports());

    Set<PathWatcher.Path> wanted = new HashSet<>();
    Map<String, String> volumeOfDevice = new TreeMap<>();
    for (Map.Entry<String, DesiredState> e : held().entrySet()) {
      e.getValue().connections().forEach(c ->
          wanted.add(new PathWatcher.Path(c.subsystemNqn(), c.address(), c.serviceId())));
      e.getValue().dmDevices().forEach(dev -> volumeOfDevice.put(dev.name(), e.getKey()));
    }
    WatchStep<PathWatcher> p = pathWatcher.observe(wanted, obs.state().controllers(), obs.nowMillis());
    pathWatcher = p.next();
    reports.addAll(p.reports());

    WatchStep<RaidWatcher> r = raidWatcher.observe(obs.state().dmDevices(), volumeOfDevice);
    raidWatcher = r.next();
    reports.addAll(r.reports());

    for (Report report : reports) {
      getContext().getLog().warn("node {}: {}", settings.nodeId(), report);
      report(report, null);
    }
    return this;
  }

  // ---- helpers ----

  private Map<String, DesiredState> held() {
    Map<String, DesiredState> out = new TreeMap<>();
    volumes.values().forEach(v -> v.desired().ifPresent(d -> out.put(v.volumeId(), d)));
    return out;
  }

  /** What this node holds applied now, as the reports that said so. */
  private List<Report> heldRevisions() {
    List<Report> out = new ArrayList<>();
    appliedRevision.forEach((volume, revision) -> {
      StoredVolume v = volumes.get(volume);
      if (v != null && v.revision() == revision && !lastError.containsKey(volume)) {
        out.add(v.desired().isEmpty() ? new Removed(settings.nodeId(), volume, revision)
            : new Applied(settings.nodeId(), volume, revision));
      }
    });
    return out;
  }

  /** Every report goes to every sink (the topology manager), except the one already answered. */
  private void report(Report report, ActorRef<Report> alreadyTold) {
    for (ActorRef<Report> sink : sinks) {
      if (!sink.equals(alreadyTold)) {
        sink.tell(report);
      }
    }
  }
}
