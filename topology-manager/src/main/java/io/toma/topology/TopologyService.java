package io.toma.topology;

import io.toma.capacity.CapacityView;
import io.toma.healing.FaultRouter;
import io.toma.healing.HealingSettings;
import io.toma.disk.DiskObserver;
import io.toma.disk.PhysicalDisk;
import io.toma.node.ControllerNode;
import io.toma.node.NodeObserver;
import io.toma.node.NodeReports;
import io.toma.volume.VirtualDisk;
import io.toma.volume.VolumeIndex;
import io.toma.volume.VolumeReply;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.function.Function;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.actor.typed.Props;
import org.apache.pekko.actor.typed.javadsl.AskPattern;
import org.apache.pekko.cluster.sharding.typed.javadsl.ClusterSharding;

/**
 * The facade the HTTP layer calls. Start it once on every manager node with
 * {@link #init(ActorSystem, TopologySettings)}: it registers the sharded entities (role
 * {@code manager}), starts the local capacity view and the node report sink. Every call answers a
 * {@link TopologyResult}; failures of the outside world (timeouts) fail the stage.
 */
public final class TopologyService {

  private final ActorSystem<?> system;
  private final TopologySettings settings;
  private final ClusterSharding sharding;
  private final ActorRef<CapacityView.Command> capacity;

  private final ActorRef<FaultRouter.Command> faults;

  private TopologyService(ActorSystem<?> system, TopologySettings settings, ActorRef<CapacityView.Command> capacity,
      ActorRef<FaultRouter.Command> faults) {
    this.system = system;
    this.settings = settings;
    this.sharding = ClusterSharding.get(system);
    this.capacity = capacity;
    this.faults = faults;
  }

  /** Start the topology manager on this (manager) node and return its facade. Call once per system. */
  public static TopologyService init(ActorSystem<?> system, TopologySettings settings) {
    return init(system, settings, HealingSettings.defaults(), true);
  }

  /**
   * As {@link #init(ActorSystem, TopologySettings)} with healing settings; {@code followMembership}
   * false leaves the fault router deaf to cluster events (tests feed it through {@link #faults()}).
   */
  public static TopologyService init(ActorSystem<?> system, TopologySettings settings, HealingSettings healing,
      boolean followMembership) {
    return init(system, settings, healing, followMembership, FaultRouter.LiveMembers.none());
  }

  /**
   * As a server starts it: healing settings from its configuration, the fault router following
   * the membership and reconciling the nodes the topology knows with the live members (so a loss
   * that happened while the router moved to another manager is still routed).
   */
  public static TopologyService initServer(ActorSystem<?> system, TopologySettings settings, HealingSettings healing) {
    return init(system, settings, healing, true, java.util.Optional.of(FaultRouter.LiveMembers.of(system)));
  }

  private static TopologyService init(ActorSystem<?> system, TopologySettings settings, HealingSettings healing,
      boolean followMembership, java.util.Optional<FaultRouter.LiveMembers> liveMembers) {
    ActorRef<CapacityView.Command> capacity =
        system.systemActorOf(CapacityView.create(), "toma-capacity-view", Props.empty());
    ClusterSharding sharding = ClusterSharding.get(system);
    DiskObserver diskObserver = new DiskObserver() {
      @Override
      public void changed(DiskFacts facts) {
        capacity.tell(new CapacityView.PublishDisk(facts));
      }

      @Override
      public void lost(String diskId, Set<String> volumeIds, String reason) {
        volumeIds.forEach(v -> sharding.entityRefFor(VirtualDisk.TYPE_KEY, v)
            .tell(new VirtualDisk.ReportMemberLost(diskId, reason)));
      }
    };
    NodeObserver nodeObserver = facts -> capacity.tell(new CapacityView.PublishNode(facts));
    PhysicalDisk.init(system, diskObserver, settings.snapshotEvery());
    ControllerNode.init(system, nodeObserver, settings.controllerSlotsPerNode(), settings.snapshotEvery());
    VolumeIndex.init(system, settings.snapshotEvery());
    // one admission gate for every volume's rebuilds: the caps hold cluster-wide; leases outlive a
    // few missed ticks, and a volume that stops renewing (deleted, crashed) frees its permits
    ActorRef<io.toma.healing.RebuildCoordinator.Command> rebuilds = io.toma.healing.RebuildCoordinator.init(system,
        healing, settings.applyResendInterval().multipliedBy(10).plusSeconds(5),
        key -> sharding.entityRefFor(VirtualDisk.TYPE_KEY, key.volume())
            .tell(new VirtualDisk.RebuildPermitted(key.lostTag())));
    VirtualDisk.init(system, capacity, settings, healing, rebuilds);
    // volumes with a repair under way are woken at start and every 10 resend intervals: sharding
    // does not remember entities, and such a volume may be waiting on nobody but itself
    io.toma.healing.RepairRoster.init(system, settings.snapshotEvery());
    io.toma.healing.RepairRoster.Waker.init(system, settings.applyResendInterval().multipliedBy(10),
        volume -> sharding.entityRefFor(VirtualDisk.TYPE_KEY, volume).tell(new VirtualDisk.WakeForRepair()));
    ActorRef<FaultRouter.Command> faults = FaultRouter.init(system, capacity, healing, followMembership, liveMembers);
    system.systemActorOf(NodeReports.create(faults), "toma-node-reports", Props.empty());
    return new TopologyService(system, settings, capacity, faults);
  }

  /**
   * The cluster's fault router (a singleton proxy): send it {@code new FaultRouter.Signal(...)}
   * with {@link io.toma.healing.FaultDetector} signals (Unreachable, Downed, PathLost...).
   */
  public ActorRef<FaultRouter.Command> faults() {
    return faults;
  }

  /**
   * Drain a node: cordon it (no new placements), then every volume with a controller or a member
   * there fails the controller over and rebuilds the members elsewhere, with the healing machinery.
   * Answers with the node once cordoned and every affected volume was told.
   */
  public CompletionStage<TopologyResult<NodeView>> drain(String nodeId) {
    return setCordoned(nodeId, true).thenCompose(cordoned -> {
      if (!(cordoned instanceof TopologyResult.Ok<NodeView>)) {
        return CompletableFuture.completedFuture(cordoned);
      }
      return volumesOn(nodeId).thenApply(volumes -> {
        volumes.forEach(v -> sharding.entityRefFor(VirtualDisk.TYPE_KEY, v).tell(new VirtualDisk.DrainNode(nodeId)));
        return cordoned;
      });
    });
  }

  /** The volumes with a controller (its ControllerNode knows) or an extent (its PhysicalDisks know) on a node. */
  public CompletionStage<Set<String>> volumesOn(String nodeId) {
    CompletionStage<Set<String>> hosted = sharding.entityRefFor(ControllerNode.TYPE_KEY, nodeId)
        .<ControllerNode.NodeReply>ask(ControllerNode.Get::new, settings.askTimeout())
        .thenApply(reply -> reply instanceof ControllerNode.NodeStatus status
            ? (Set<String>) new TreeSet<>(status.hosted().keySet()) : new TreeSet<String>());
    return hosted.thenCompose(controllers -> snapshot().thenCompose(s -> {
      List<CompletableFuture<PhysicalDisk.DiskStatus>> disks = s.disks().stream()
          .filter(d -> d.nodeId().equals(nodeId))
          .map(d -> sharding.entityRefFor(PhysicalDisk.TYPE_KEY, d.diskId())
              .<PhysicalDisk.DiskStatus>ask(PhysicalDisk.Get::new, settings.askTimeout()).toCompletableFuture())
          .toList();
      return CompletableFuture.allOf(disks.toArray(CompletableFuture[]::new)).thenApply(done -> {
        Set<String> all = new TreeSet<>(controllers);
        disks.forEach(d -> d.join().extents().forEach(e -> all.add(e.volumeId())));
        return all;
      });
    }));
  }

  /** This node's capacity view (placement reads it; self-healing will too). */
  public ActorRef<CapacityView.Command> capacityView() {
    return capacity;
  }

  // ---- volumes ----

  public CompletionStage<TopologyResult<VolumeView>> createVolume(VolumeSpec spec) {
    var invalid = spec.validate();
    if (invalid.isPresent()) {
      return CompletableFuture.completedFuture(new TopologyResult.Invalid<>(invalid.get().field(), invalid.get().message()));
    }
    // Placement may retry: give the create room for every attempt.
    Duration timeout = settings.askTimeout().multipliedBy(2L * settings.placementAttempts() + 2);
    return volume(spec.name(), replyTo -> new VirtualDisk.Create(spec, replyTo), timeout);
  }

  public CompletionStage<TopologyResult<VolumeView>> getVolume(String id) {
    return validId(id) ? volume(id, VirtualDisk.Get::new, settings.askTimeout()) : notFound(id);
  }

  /** Volumes in name order, {@code limit} from {@code offset}. */
  public CompletionStage<TopologyResult<Page<VolumeView>>> listVolumes(int offset, int limit) {
    if (offset < 0 || limit < 1 || limit > 1000) {
      return CompletableFuture.completedFuture(new TopologyResult.Invalid<>(
          offset < 0 ? "offset" : "limit", offset < 0 ? "offset must be >= 0" : "limit must be 1..1000"));
    }
    return sharding.entityRefFor(VolumeIndex.TYPE_KEY, VolumeIndex.ID)
        .<VolumeIndex.IdPage>ask(replyTo -> new VolumeIndex.ListIds(offset, limit, replyTo), settings.askTimeout())
        .thenCompose(page -> {
          List<CompletableFuture<TopologyResult<VolumeView>>> gets = page.ids().stream()
              .map(id -> getVolume(id).toCompletableFuture()).toList();
          return CompletableFuture.allOf(gets.toArray(CompletableFuture[]::new)).thenApply(done -> {
            List<VolumeView> views = new ArrayList<>();
            gets.forEach(g -> {
              if (g.join() instanceof TopologyResult.Ok<VolumeView> ok) {
                views.add(ok.value());
              }
            });
            return new TopologyResult.Ok<>(new Page<>(views, offset, limit, page.total()));
          });
        });
  }

  /** Starts deleting; the view says Deleting until every node removed the volume. */
  public CompletionStage<TopologyResult<VolumeView>> deleteVolume(String id) {
    return validId(id) ? volume(id, VirtualDisk.Delete::new, settings.askTimeout()) : notFound(id);
  }

  public CompletionStage<TopologyResult<VolumeView>> attach(String id, String hostNqn) {
    return validId(id) ? volume(id, r -> new VirtualDisk.Attach(hostNqn, r), settings.askTimeout()) : notFound(id);
  }

  public CompletionStage<TopologyResult<VolumeView>> detach(String id, String hostNqn) {
    return validId(id) ? volume(id, r -> new VirtualDisk.Detach(hostNqn, r), settings.askTimeout()) : notFound(id);
  }

  /**
   * Grow online (no shrinking). Answers once the grow is recorded (state Provisioning until the
   * disk nodes, then the controllers, applied it); PlacementFailed when an extent cannot grow in
   * place (moving extents is not built yet).
   */
  public CompletionStage<TopologyResult<VolumeView>> resize(String id, long newSizeBytes) {
    return validId(id)
        ? volume(id, r -> new VirtualDisk.Resize(newSizeBytes, r), settings.askTimeout().multipliedBy(2))
        : notFound(id);
  }

  // ---- nodes ----

  public CompletionStage<TopologyResult<List<NodeView>>> listNodes() {
    return snapshot().thenApply(s -> new TopologyResult.Ok<>(nodeViews(s)));
  }

  /** Cordoned nodes get no new placements (extents or controllers); what they hold stays. */
  public CompletionStage<TopologyResult<NodeView>> cordon(String nodeId) {
    return setCordoned(nodeId, true);
  }

  public CompletionStage<TopologyResult<NodeView>> uncordon(String nodeId) {
    return setCordoned(nodeId, false);
  }

  public CompletionStage<TopologyResult<ClusterSummary>> clusterSummary() {
    return snapshot().thenCompose(s -> listAllStates().thenApply(states -> {
      Map<String, Integer> byState = new TreeMap<>();
      states.forEach(state -> byState.merge(state, 1, Integer::sum));
      long total = s.disks().stream().mapToLong(DiskFacts::sizeBytes).sum();
      long free = s.disks().stream().filter(DiskFacts::healthy).mapToLong(DiskFacts::freeBytes).sum();
      return new TopologyResult.Ok<>(new ClusterSummary(
          s.nodes().size(), (int) s.nodes().stream().filter(NodeFacts::cordoned).count(),
          s.disks().size(), (int) s.disks().stream().filter(d -> !d.healthy()).count(),
          total, free, states.size(), byState));
    }));
  }

  // ---- plumbing ----

  private CompletionStage<List<String>> listAllStates() {
    return sharding.entityRefFor(VolumeIndex.TYPE_KEY, VolumeIndex.ID)
        .<VolumeIndex.IdPage>ask(replyTo -> new VolumeIndex.ListIds(0, Integer.MAX_VALUE, replyTo), settings.askTimeout())
        .thenCompose(page -> {
          List<CompletableFuture<TopologyResult<VolumeView>>> gets = page.ids().stream()
              .map(id -> getVolume(id).toCompletableFuture()).toList();
          return CompletableFuture.allOf(gets.toArray(CompletableFuture[]::new)).thenApply(done -> {
            List<String> states = new ArrayList<>();
            gets.forEach(g -> {
              if (g.join() instanceof TopologyResult.Ok<VolumeView> ok) {
                states.add(ok.value().state());
              }
            });
            return states;
          });
        });
  }

  private CompletionStage<TopologyResult<NodeView>> setCordoned(String nodeId, boolean cordoned) {
    return sharding.entityRefFor(ControllerNode.TYPE_KEY, nodeId)
        .<ControllerNode.NodeReply>ask(r -> new ControllerNode.SetCordoned(cordoned, r), settings.askTimeout())
        .thenCompose(reply -> {
          if (reply instanceof ControllerNode.NodeStatus status) {
            return snapshot().thenApply(s -> (TopologyResult<NodeView>) new TopologyResult.Ok<>(
                nodeView(status.facts(), s.disks())));
          }
          return CompletableFuture.completedFuture(new TopologyResult.NotFound<NodeView>("node " + nodeId));
        });
  }

  private CompletionStage<CapacityView.Snapshot> snapshot() {
    return AskPattern.ask(capacity, CapacityView.GetSnapshot::new, settings.askTimeout(), system.scheduler());
  }

  private static List<NodeView> nodeViews(CapacityView.Snapshot s) {
    return s.nodes().stream().sorted(Comparator.comparing(NodeFacts::nodeId)).map(n -> nodeView(n, s.disks())).toList();
  }

  private static NodeView nodeView(NodeFacts n, List<DiskFacts> disks) {
    return new NodeView(n.nodeId(), n.roles().stream().sorted().toList(), n.zone(), n.rack(), n.fabricAddress(),
        n.hostNqn(), n.cordoned(), n.hostedControllers(),
        disks.stream().filter(d -> d.nodeId().equals(n.nodeId()))
            .sorted(Comparator.comparing(DiskFacts::diskId))
            .map(d -> new NodeView.DiskView(d.diskId(), d.sizeBytes(), d.freeBytes(), d.healthy())).toList());
  }

  private CompletionStage<TopologyResult<VolumeView>> volume(
      String id, Function<ActorRef<VolumeReply>, VirtualDisk.Command> command, Duration timeout) {
    return sharding.entityRefFor(VirtualDisk.TYPE_KEY, id)
        .<VolumeReply>ask(command::apply, timeout)
        .thenApply(TopologyService::toResult);
  }

  static TopologyResult<VolumeView> toResult(VolumeReply reply) {
    if (reply instanceof VolumeReply.Found f) {
      return new TopologyResult.Ok<>(f.volume());
    }
    if (reply instanceof VolumeReply.NotFound n) {
      return new TopologyResult.NotFound<>("volume " + n.volumeId());
    }
    if (reply instanceof VolumeReply.Conflict c) {
      return new TopologyResult.Conflict<>(c.message());
    }
    if (reply instanceof VolumeReply.Invalid i) {
      return new TopologyResult.Invalid<>(i.field(), i.message());
    }
    return new TopologyResult.PlacementFailed<>(((VolumeReply.PlacementFailed) reply).message());
  }

  /** A name that could never be a volume is answered NotFound without waking an entity. */
  private static boolean validId(String id) {
    return id != null && id.matches("[a-z0-9][a-z0-9-]{0,62}");
  }

  private static <T> CompletionStage<TopologyResult<T>> notFound(String id) {
    return CompletableFuture.completedFuture(new TopologyResult.NotFound<>("volume " + id));
  }
}
