package io.toma.api.cluster;

import io.toma.agent.AgentProtocol;
import io.toma.api.ApiResult;
import io.toma.api.AttachRequest;
import io.toma.api.ClusterOperations;
import io.toma.api.ClusterView;
import io.toma.api.CreateVolumeRequest;
import io.toma.api.CreatedVolume;
import io.toma.api.NodeView;
import io.toma.api.RepairView;
import io.toma.api.ResizeRequest;
import io.toma.api.VolumePage;
import io.toma.api.VolumeState;
import io.toma.api.VolumeView;
import io.toma.topology.TopologyResult;
import io.toma.topology.TopologyService;
import java.time.Duration;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.CompletionStage;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.actor.typed.javadsl.AskPattern;
import org.apache.pekko.actor.typed.receptionist.Receptionist;
import org.apache.pekko.cluster.ClusterEvent.CurrentClusterState;
import org.apache.pekko.cluster.Member;
import org.apache.pekko.cluster.MemberStatus;
import org.apache.pekko.cluster.typed.Cluster;

/**
 * The HTTP API's port onto the topology manager: every call goes to {@link TopologyService} and
 * its {@link TopologyResult} comes back as an {@link ApiResult}. Failures of the outside world
 * (an entity or agent that does not answer in time) become {@link ApiResult.Unavailable}, so the
 * API answers 503 with a sentence instead of a 500.
 */
public final class TopologyClusterOperations implements ClusterOperations {

  /** Larger than any volume list the cluster summary pages through for repairs. */
  private static final int REPAIR_SCAN_LIMIT = 1000;

  private final ActorSystem<?> system;
  private final TopologyService topology;
  private final Duration askTimeout;

  public TopologyClusterOperations(ActorSystem<?> system, TopologyService topology, Duration askTimeout) {
    this.system = system;
    this.topology = topology;
    this.askTimeout = askTimeout;
  }

  // ---- volumes ----

  /**
   * Looks the name up first, so {@code created} is true only when this call made the volume. Two
   * racing creates of one new name may both say created; the volume is still made once, because
   * its entity is the single writer of that name.
   */
  @Override
  public CompletionStage<ApiResult<CreatedVolume>> createVolume(CreateVolumeRequest request) {
    return guard(
        topology.getVolume(request.name()).thenCompose(existing -> {
          boolean existed = existing instanceof TopologyResult.Ok<?>;
          return topology.createVolume(ViewMapping.spec(request))
              .thenApply(created -> toApi(created).map(v -> new CreatedVolume(ViewMapping.volume(v), !existed)));
        }));
  }

  @Override
  public CompletionStage<ApiResult<VolumeView>> getVolume(String volumeId) {
    return guard(topology.getVolume(volumeId).thenApply(r -> toApi(r).map(ViewMapping::volume)));
  }

  @Override
  public CompletionStage<ApiResult<VolumePage>> listVolumes(int offset, int limit) {
    return guard(topology.listVolumes(offset, limit).thenApply(r -> toApi(r).map(page -> new VolumePage(
        page.items().stream().map(ViewMapping::volume).toList(), page.offset(), page.limit(), page.total()))));
  }

  @Override
  public CompletionStage<ApiResult<VolumeView>> deleteVolume(String volumeId) {
    return guard(topology.deleteVolume(volumeId).thenApply(r -> toApi(r).map(ViewMapping::volume)));
  }

  @Override
  public CompletionStage<ApiResult<VolumeView>> attach(String volumeId, AttachRequest request) {
    return guard(topology.attach(volumeId, request.hostNqn()).thenApply(r -> toApi(r).map(ViewMapping::volume)));
  }

  @Override
  public CompletionStage<ApiResult<VolumeView>> detach(String volumeId, String hostNqn) {
    return guard(topology.getVolume(volumeId).thenCompose(found -> {
      if (found instanceof TopologyResult.Ok<io.toma.topology.VolumeView> ok
          && !ok.value().attachments().contains(hostNqn)) {
        return CompletableFuture.completedFuture(
            ApiResult.<VolumeView>notFound("host " + hostNqn + " is not attached to volume " + volumeId));
      }
      return topology.detach(volumeId, hostNqn).thenApply(r -> toApi(r).map(ViewMapping::volume));
    }));
  }

  @Override
  public CompletionStage<ApiResult<VolumeView>> resize(String volumeId, ResizeRequest request) {
    return guard(topology.resize(volumeId, request.sizeBytes()).thenApply(r -> toApi(r).map(ViewMapping::volume)));
  }

  // ---- nodes ----

  @Override
  public CompletionStage<ApiResult<List<NodeView>>> listNodes() {
    return guard(topology.listNodes().thenApply(r -> {
      CurrentClusterState members = membership();
      return toApi(r).map(nodes -> nodes.stream().map(n -> ViewMapping.node(n, status(members, n.id()))).toList());
    }));
  }

  @Override
  public CompletionStage<ApiResult<NodeView>> cordon(String nodeId) {
    return guard(topology.cordon(nodeId).thenApply(r -> toApi(r).map(n -> ViewMapping.node(n, status(membership(), n.id())))));
  }

  @Override
  public CompletionStage<ApiResult<NodeView>> uncordon(String nodeId) {
    return guard(topology.uncordon(nodeId).thenApply(r -> toApi(r).map(n -> ViewMapping.node(n, status(membership(), n.id())))));
  }

  /**
   * Cordons the node and hands every volume on it to its own entity, which moves controllers and
   * slices away with the failover and rebuild machinery; the answer is the cordoned node.
   */
  @Override
  public CompletionStage<ApiResult<NodeView>> drain(String nodeId) {
    return guard(topology.drain(nodeId).thenApply(r -> toApi(r).map(n -> ViewMapping.node(n, status(membership(), n.id())))));
  }

  /** Asks the node's own agent, found through the Receptionist, for its dry-run plan. */
  @Override
  public CompletionStage<ApiResult<String>> nodePlan(String nodeId) {
    var key = AgentProtocol.agentKey(nodeId);
    CompletionStage<Receptionist.Listing> listing =
        AskPattern.ask(system.receptionist(), (ActorRef<Receptionist.Listing> r) -> Receptionist.find(key, r),
            askTimeout, system.scheduler());
    return guard(listing.thenCompose(l -> {
      Set<ActorRef<AgentProtocol.Command>> agents = l.getServiceInstances(key);
      if (agents.isEmpty()) {
        return CompletableFuture.completedFuture(
            ApiResult.<String>notFound("node " + nodeId + " has no running agent"));
      }
      return AskPattern.<AgentProtocol.Command, AgentProtocol.PlanRendered>ask(
              agents.iterator().next(), AgentProtocol.RenderPlan::new, askTimeout, system.scheduler())
          .thenApply(p -> ApiResult.ok(p.script()));
    }));
  }

  // ---- cluster ----

  /**
   * Members from gossip; volume counts from the manager's summary; repairs are the volumes that
   * are Degraded or Rebuilding, with the manager's reason as their step.
   */
  @Override
  public CompletionStage<ApiResult<ClusterView>> cluster() {
    CompletionStage<ApiResult<ClusterView>> view = topology.clusterSummary().thenCompose(summary -> {
      if (!(summary instanceof TopologyResult.Ok<io.toma.topology.ClusterSummary> ok)) {
        return CompletableFuture.completedFuture(toApi(summary).map(s -> (ClusterView) null));
      }
      Map<VolumeState, Integer> byState = new EnumMap<>(VolumeState.class);
      for (VolumeState s : VolumeState.values()) {
        byState.put(s, 0);
      }
      ok.value().volumesByState().forEach((state, count) -> byState.merge(ViewMapping.volumeState(state), count, Integer::sum));
      return topology.listVolumes(0, REPAIR_SCAN_LIMIT).thenApply(page -> {
        List<RepairView> repairs = new ArrayList<>();
        if (page instanceof TopologyResult.Ok<io.toma.topology.Page<io.toma.topology.VolumeView>> p) {
          p.value().items().stream().map(ViewMapping::volume).forEach(v -> repairFor(v).ifPresent(repairs::add));
        }
        CurrentClusterState members = membership();
        return ApiResult.ok(new ClusterView(memberIds(members, false), memberIds(members, true), byState, repairs));
      });
    });
    return guard(view);
  }

  static Optional<RepairView> repairFor(VolumeView v) {
    if (v.state() != VolumeState.Degraded && v.state() != VolumeState.Rebuilding) {
      return Optional.empty();
    }
    // Progress of the copies being made; a failed member has none to show.
    int progress = v.legs().stream().flatMap(l -> l.replicas().stream())
        .filter(r -> r.state().equals("rebuilding"))
        .mapToInt(io.toma.api.ReplicaView::syncPercent).min().orElse(0);
    return Optional.of(new RepairView(v.id(), "rebuild", v.reason().orElse(ViewMapping.lower(v.state().name())), progress));
  }

  // ---- plumbing ----

  private CurrentClusterState membership() {
    return Cluster.get(system).state();
  }

  /** up, unreachable (seen by this node's failure detector) or down (not a live member). */
  static String status(CurrentClusterState state, String nodeId) {
    String best = "down";
    for (Member m : state.getMembers()) {
      if (NodeIdentity.nodeId(m.getRoles()).filter(nodeId::equals).isEmpty() || !live(m)) {
        continue;
      }
      if (!state.getUnreachable().contains(m)) {
        return "up";
      }
      best = "unreachable";
    }
    return best;
  }

  private static boolean live(Member m) {
    MemberStatus s = m.status();
    return s == MemberStatus.up() || s == MemberStatus.weaklyUp() || s == MemberStatus.joining()
        || s == MemberStatus.leaving();
  }

  private static List<String> memberIds(CurrentClusterState state, boolean unreachable) {
    Set<String> ids = new TreeSet<>();
    for (Member m : state.getMembers()) {
      boolean isUnreachable = state.getUnreachable().contains(m);
      if (live(m) && isUnreachable == unreachable) {
        ids.add(NodeIdentity.nodeId(m.getRoles()).orElse(m.address().toString()));
      }
    }
    return List.copyOf(ids);
  }

  static <T> ApiResult<T> toApi(TopologyResult<T> result) {
    if (result instanceof TopologyResult.Ok<T> ok) {
      return ApiResult.ok(ok.value());
    }
    if (result instanceof TopologyResult.NotFound<T> nf) {
      return ApiResult.notFound(nf.what() + " does not exist");
    }
    if (result instanceof TopologyResult.Conflict<T> c) {
      return ApiResult.conflict(c.message());
    }
    if (result instanceof TopologyResult.Invalid<T> i) {
      return ApiResult.invalid(ViewMapping.apiField(i.field()), i.message());
    }
    return ApiResult.conflict(((TopologyResult.PlacementFailed<T>) result).message());
  }

  /** A stage that failed (timeout, no shard region yet) answers Unavailable with the reason. */
  private static <T> CompletionStage<ApiResult<T>> guard(CompletionStage<ApiResult<T>> stage) {
    return stage.handle((result, error) -> {
      if (error == null) {
        return result;
      }
      Throwable cause = error instanceof CompletionException && error.getCause() != null ? error.getCause() : error;
      return ApiResult.<T>unavailable("the cluster did not answer: " + cause.getMessage());
    });
  }
}
