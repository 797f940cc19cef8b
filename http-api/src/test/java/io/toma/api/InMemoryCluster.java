package io.toma.api;

import java.util.ArrayList;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicInteger;
import org.apache.pekko.NotUsed;
import org.apache.pekko.stream.javadsl.Source;

/**
 * A fake cluster for API tests: volumes in a map, with the same idempotency rules the real one
 * keeps (same name and spec → the existing volume; same name, other spec → conflict) and a fixed
 * capacity so placement can be refused. Three nodes in two racks. Events are a fixed list.
 */
public final class InMemoryCluster implements ClusterOperations, DemoFaults, ApiEvents {

  static final long CAPACITY_BYTES = 16L << 40;

  private final Map<String, VolumeView> byId = new TreeMap<>();
  private final Map<String, CreateVolumeRequest> specs = new TreeMap<>();
  private final Map<String, NodeView> nodes = new TreeMap<>();
  private final AtomicInteger ids = new AtomicInteger();
  final List<FaultRequest> faults = new CopyOnWriteArrayList<>();
  public final List<ApiEvent> events = new CopyOnWriteArrayList<>();

  public InMemoryCluster() {
    addNode("node-a", "rack-1");
    addNode("node-b", "rack-1");
    addNode("node-c", "rack-2");
  }

  private void addNode(String id, String rack) {
    nodes.put(id, new NodeView(id, List.of("disk", "controller"), "zone-1", rack, "up", false,
        List.of(new DiskView(id + "-nvme0", 4L << 40, 3L << 40, "ok"))));
  }

  /** Moves a volume to another state, as a repair would (for tests of how states are shown). */
  public synchronized void setState(String volumeId, VolumeState state, Optional<String> reason) {
    VolumeView v = byId.get(volumeId);
    byId.put(volumeId, new VolumeView(v.id(), v.name(), v.sizeBytes(), state, reason, v.epoch(), v.layout(),
        v.failureDomain(), v.legs(), v.controllers(), v.attachments()));
  }

  public synchronized int volumeCount() {
    return byId.size();
  }

  @Override
  public synchronized CompletionStage<ApiResult<CreatedVolume>> createVolume(CreateVolumeRequest request) {
    Optional<VolumeView> existing = byId.values().stream().filter(v -> v.name().equals(request.name())).findFirst();
    if (existing.isPresent()) {
      CreateVolumeRequest spec = specs.get(existing.get().id());
      return done(spec.equals(request)
          ? ApiResult.ok(new CreatedVolume(existing.get(), false))
          : ApiResult.conflict("volume '" + request.name() + "' exists with another spec: " + spec));
    }
    long used = specs.values().stream().mapToLong(s -> s.sizeBytes() * s.layout().replicas()).sum();
    if (used + request.sizeBytes() * request.layout().replicas() > CAPACITY_BYTES) {
      return done(ApiResult.conflict("no placement: " + request.layout().replicas()
          + " replicas of " + Sizes.human(request.sizeBytes()) + " do not fit in the free space left"));
    }
    if (request.failureDomain() == FailureDomain.ZONE && request.layout().replicas() > 1) {
      return done(ApiResult.conflict("no placement: only one zone is labelled, " + request.layout().replicas()
          + " replicas need as many zones"));
    }
    String id = "vol-" + ids.incrementAndGet();
    VolumeView v = new VolumeView(id, request.name(), request.sizeBytes(), VolumeState.Online, Optional.empty(), 1,
        request.layout(), request.failureDomain(), legs(request.layout()),
        List.of(new ControllerView("node-a", "active", "optimized")), List.of());
    byId.put(id, v);
    specs.put(id, request);
    return done(ApiResult.ok(new CreatedVolume(v, true)));
  }

  private static List<LegView> legs(Layout layout) {
    List<LegView> legs = new ArrayList<>();
    String[] nodeIds = {"node-a", "node-b", "node-c"};
    for (int l = 0; l < layout.legs(); l++) {
      List<ReplicaView> replicas = new ArrayList<>();
      for (int r = 0; r < layout.replicas(); r++) {
        String node = nodeIds[r % 3];
        replicas.add(new ReplicaView(node + "-nvme0", node, node.equals("node-c") ? "rack-2" : "rack-1", "zone-1",
            r == 1 ? "rebuilding" : "in-sync", r == 1 ? 42 : 100));
      }
      legs.add(new LegView(l, replicas));
    }
    return legs;
  }

  @Override
  public synchronized CompletionStage<ApiResult<VolumeView>> getVolume(String volumeId) {
    return done(find(volumeId));
  }

  private ApiResult<VolumeView> find(String volumeId) {
    VolumeView v = byId.get(volumeId);
    return v == null ? ApiResult.notFound("no volume '" + volumeId + "'") : ApiResult.ok(v);
  }

  @Override
  public synchronized CompletionStage<ApiResult<VolumePage>> listVolumes(int offset, int limit) {
    List<VolumeView> all = byId.values().stream().sorted(java.util.Comparator.comparing(VolumeView::name)).toList();
    List<VolumeView> page = all.subList(Math.min(offset, all.size()), Math.min(all.size(), (int) Math.min((long) offset + limit, all.size())));
    return done(ApiResult.ok(new VolumePage(page, offset, limit, all.size())));
  }

  @Override
  public synchronized CompletionStage<ApiResult<VolumeView>> deleteVolume(String volumeId) {
    return done(find(volumeId).map(v -> {
      byId.remove(volumeId);
      specs.remove(volumeId);
      return with(v, VolumeState.Deleting, v.attachments());
    }));
  }

  @Override
  public synchronized CompletionStage<ApiResult<VolumeView>> attach(String volumeId, AttachRequest request) {
    return done(find(volumeId).map(v -> {
      List<String> hosts = new ArrayList<>(v.attachments());
      if (!hosts.contains(request.hostNqn())) {
        hosts.add(request.hostNqn());
      }
      return store(with(v, v.state(), hosts));
    }));
  }

  @Override
  public synchronized CompletionStage<ApiResult<VolumeView>> detach(String volumeId, String hostNqn) {
    return done(find(volumeId).flatMap(v -> {
      if (!v.attachments().contains(hostNqn)) {
        return ApiResult.notFound("host " + hostNqn + " is not attached to " + volumeId);
      }
      List<String> hosts = new ArrayList<>(v.attachments());
      hosts.remove(hostNqn);
      return ApiResult.ok(store(with(v, v.state(), hosts)));
    }));
  }

  @Override
  public synchronized CompletionStage<ApiResult<VolumeView>> resize(String volumeId, ResizeRequest request) {
    return done(find(volumeId).flatMap(v -> {
      if (request.sizeBytes() < v.sizeBytes()) {
        return ApiResult.invalid("size", "shrinking is refused: it would cut off data the filesystem may use ("
            + Sizes.human(v.sizeBytes()) + " → " + Sizes.human(request.sizeBytes()) + ")");
      }
      VolumeView grown = new VolumeView(v.id(), v.name(), request.sizeBytes(), v.state(), v.reason(), v.epoch(),
          v.layout(), v.failureDomain(), v.legs(), v.controllers(), v.attachments());
      CreateVolumeRequest spec = specs.get(volumeId);
      specs.put(volumeId, new CreateVolumeRequest(spec.name(), request.sizeBytes(), spec.layout(), spec.failureDomain()));
      return ApiResult.ok(store(grown));
    }));
  }

  private VolumeView with(VolumeView v, VolumeState state, List<String> hosts) {
    return new VolumeView(v.id(), v.name(), v.sizeBytes(), state,
        state == VolumeState.Deleting ? Optional.of("deletion requested") : v.reason(), v.epoch(), v.layout(),
        v.failureDomain(), v.legs(), v.controllers(), hosts);
  }

  private VolumeView store(VolumeView v) {
    byId.put(v.id(), v);
    return v;
  }

  @Override
  public synchronized CompletionStage<ApiResult<List<NodeView>>> listNodes() {
    return done(ApiResult.ok(List.copyOf(nodes.values())));
  }

  @Override
  public synchronized CompletionStage<ApiResult<NodeView>> cordon(String nodeId) {
    return done(setCordoned(nodeId, true));
  }

  @Override
  public synchronized CompletionStage<ApiResult<NodeView>> uncordon(String nodeId) {
    return done(setCordoned(nodeId, false));
  }

  @Override
  public synchronized CompletionStage<ApiResult<NodeView>> drain(String nodeId) {
    return done(setCordoned(nodeId, true));
  }

  private ApiResult<NodeView> setCordoned(String nodeId, boolean cordoned) {
    NodeView n = nodes.get(nodeId);
    if (n == null) {
      return ApiResult.notFound("no node '" + nodeId + "'");
    }
    NodeView changed = new NodeView(n.id(), n.roles(), n.zone(), n.rack(), n.status(), cordoned, n.disks());
    nodes.put(nodeId, changed);
    return ApiResult.ok(changed);
  }

  @Override
  public synchronized CompletionStage<ApiResult<String>> nodePlan(String nodeId) {
    if (!nodes.containsKey(nodeId)) {
      return done(ApiResult.notFound("no node '" + nodeId + "'"));
    }
    return done(ApiResult.ok("# plan for " + nodeId + "\ndmsetup create toma-vol-1-l0 --table '0 2048 linear /dev/nvme0n1 0'\n"));
  }

  @Override
  public synchronized CompletionStage<ApiResult<ClusterView>> cluster() {
    Map<VolumeState, Integer> counts = new EnumMap<>(VolumeState.class);
    for (VolumeState s : VolumeState.values()) {
      counts.put(s, 0);
    }
    byId.values().forEach(v -> counts.merge(v.state(), 1, Integer::sum));
    return done(ApiResult.ok(new ClusterView(List.copyOf(nodes.keySet()), List.of(), counts,
        List.of(new RepairView("vol-1", "rebuild", "resyncing leg 0", 42)))));
  }

  @Override
  public CompletionStage<ApiResult<String>> inject(FaultRequest fault) {
    if (!nodes.containsKey(fault.target()) && fault.kind() != FaultKind.DISK && fault.kind() != FaultKind.RACK) {
      return done(ApiResult.notFound("no node '" + fault.target() + "'"));
    }
    faults.add(fault);
    return done(ApiResult.ok("injected " + fault.kind().wireName() + " fault on " + fault.target()));
  }

  @Override
  public CompletionStage<ApiResult<String>> heal() {
    int n = faults.size();
    faults.clear();
    return done(ApiResult.ok("healed " + n + " faults"));
  }

  @Override
  public Source<ApiEvent, NotUsed> subscribe() {
    return Source.from(List.copyOf(events));
  }

  private static <T> CompletionStage<T> done(T value) {
    return CompletableFuture.completedFuture(value);
  }
}
