package io.toma.simulation;

import io.toma.disk.Extent;
import io.toma.disk.ExtentAllocator;
import io.toma.healing.Failover;
import io.toma.healing.Rebuild;
import io.toma.healing.Refs.ExtentRef;
import io.toma.kernel.DesiredState;
import io.toma.kernel.DesiredState.DmDevice;
import io.toma.kernel.DesiredState.DmTableLine;
import io.toma.kernel.DesiredState.NvmetPort;
import io.toma.kernel.DesiredState.NvmetSubsystem;
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
import io.toma.topology.ControllerPlacement;
import io.toma.topology.ControllerRole;
import io.toma.topology.ReplicaPlacement;
import io.toma.topology.VolumePlacement;
import io.toma.topology.VolumeSpec;
import io.toma.volume.DesiredStateBuilder;
import io.toma.volume.VolumeDesign;
import io.toma.volume.VolumeGeometry;
import io.toma.volume.VolumeNames;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;

/**
 * The simulated manager's state: a fold of its journal ({@link #apply}). Mutable inside for speed,
 * but only {@link #apply} changes it, so replaying the same journal gives the same state.
 *
 * <p>Desired states come from {@link DesiredStateBuilder}, adjusted for repairs the builder does
 * not know yet: a lost member leaves every kernel (its slice is removed from its disk node, the
 * active controller reads it as an {@code error} device, so raid1 marks it dead and carries on),
 * and a replacement member is added with {@code rebuild <slot>} until it is in sync.
 */
final class ManagerState {

  static final int FIRST_SERVICE_ID = 4421;

  /** One disk's allocator and where it is. */
  static final class Disk {
    final String id;
    final String node;
    ExtentAllocator allocator;
    boolean dead;

    Disk(String id, String node, long size) {
      this.id = id;
      this.node = node;
      this.allocator = ExtentAllocator.empty(size);
    }
  }

  /** A release waiting for its node's confirmation. */
  record Deferred(String volume, String disk, Extent extent, String node, long revision) {}

  static final class Volume {
    final String id;
    final VolumeSpec spec;
    final String namespaceUuid;
    long epoch = 1;
    VolumePlacement placement;
    final List<String> attachments;
    long revision;
    Map<String, DesiredState> desired = new TreeMap<>();
    final Map<String, Long> desiredRev = new TreeMap<>();
    final Map<String, Long> appliedRev = new TreeMap<>();
    final Map<String, Long> removedRev = new TreeMap<>();
    final Map<String, Long> leaving = new TreeMap<>();
    Optional<Failover.State> failover = Optional.empty();
    long fenceRevision;
    long promotionRevision;
    String lastFailed = "";
    final Map<String, Rebuild.State> rebuilds = new TreeMap<>();
    /** Per rebuild key: the revision that dropped the lost member, and the one that attached its replacement. */
    final Map<String, Long> droppedAt = new TreeMap<>();
    final Map<String, Long> attachedAt = new TreeMap<>();
    int failoversDone;
    int rebuildsDone;

    Volume(VolumeCreated c) {
      id = c.volume();
      spec = c.spec();
      namespaceUuid = c.namespaceUuid();
      placement = c.placement();
      attachments = List.copyOf(c.attachments());
    }

    Optional<ControllerPlacement> active() {
      return placement.controllers().stream().filter(c -> c.role() == ControllerRole.ACTIVE).findFirst();
    }

    List<ControllerPlacement> standbys() {
      return placement.controllers().stream().filter(c -> c.role() == ControllerRole.STANDBY).toList();
    }

    boolean failoverRunning() {
      return failover.isPresent() && !failover.get().stage().finished();
    }

    /** Tags whose member is lost and not yet replaced (out of every kernel). */
    Set<String> lostTags() {
      Set<String> tags = new TreeSet<>();
      rebuilds.forEach((key, r) -> {
        if (r.stage() == Rebuild.Stage.MEMBER_LOST || r.stage() == Rebuild.Stage.REPLACEMENT_REQUESTED) {
          tags.add(tagOf(key));
        }
      });
      return tags;
    }

    /** Tags whose replacement is attached and not yet in sync. */
    Set<String> syncingTags() {
      Set<String> tags = new TreeSet<>();
      rebuilds.forEach((key, r) -> {
        if (r.inFlight() && r.stage().compareTo(Rebuild.Stage.REPLACEMENT_GRANTED) >= 0) {
          tags.add(tagOf(key));
        }
      });
      return tags;
    }

    Optional<String> activeRebuild(String tag) {
      return rebuilds.entrySet().stream()
          .filter(e -> tagOf(e.getKey()).equals(tag) && e.getValue().stage().compareTo(Rebuild.Stage.IN_SYNC) < 0)
          .map(Map.Entry::getKey).findFirst();
    }

    boolean confirmed(String node, long revision) {
      return appliedRev.getOrDefault(node, 0L) >= revision || removedRev.getOrDefault(node, 0L) >= revision;
    }

    Set<String> nodesBehind() {
      Set<String> behind = new TreeSet<>();
      desiredRev.forEach((node, rev) -> {
        if (appliedRev.getOrDefault(node, 0L) < rev) {
          behind.add(node);
        }
      });
      return behind;
    }

    boolean online() {
      return active().isPresent() && !failoverRunning() && lostTags().isEmpty() && syncingTags().isEmpty()
          && nodesBehind().isEmpty();
    }

    String reason() {
      if (active().isEmpty()) {
        return "no active controller" + failover.flatMap(Failover.State::outcome).map(o -> " (" + o + ")").orElse("");
      }
      if (failoverRunning()) {
        return "failover at stage " + failover.get().stage();
      }
      if (!lostTags().isEmpty()) {
        return "lost members " + lostTags() + refusals();
      }
      if (!syncingTags().isEmpty()) {
        return "members resyncing " + syncingTags();
      }
      if (!nodesBehind().isEmpty()) {
        return "waiting for " + nodesBehind();
      }
      return "online";
    }

    Optional<String> lastRefusal() {
      return rebuilds.values().stream().filter(r -> r.pending()).flatMap(r -> r.lastRefusal().stream()).findFirst();
    }

    private String refusals() {
      return lastRefusal().map(r -> " (replacement refused: " + r + ")").orElse("");
    }
  }

  static String tagOf(String rebuildKey) {
    return rebuildKey.substring(0, rebuildKey.indexOf('@'));
  }

  final Map<String, Disk> disks = new TreeMap<>();
  final Map<String, Volume> volumes = new TreeMap<>();
  final Set<String> lostNodes = new TreeSet<>();
  final Map<String, Integer> servicesUsed = new TreeMap<>();
  final List<Deferred> deferred = new ArrayList<>();

  final ClusterShape shape;

  ManagerState(ClusterShape shape) {
    this.shape = shape;
    shape.disks().forEach(d -> disks.put(d.id(), new Disk(d.id(), d.node(), d.sizeBytes())));
  }

  int nextServiceId(String node) {
    return FIRST_SERVICE_ID + servicesUsed.getOrDefault(node, 0);
  }

  void apply(ManagerEvent event) {
    if (event instanceof VolumeCreated c) {
      Volume v = new Volume(c);
      volumes.put(v.id, v);
      c.placement().controllers().forEach(this::useService);
      refresh(v);
    } else if (event instanceof ExtentGranted g) {
      Disk d = disks.get(g.disk());
      d.allocator = d.allocator.with(g.extent());
    } else if (event instanceof ExtentReleased r) {
      Disk d = disks.get(r.disk());
      List<Extent> kept = d.allocator.extents().stream().filter(e -> !e.equals(r.extent())).toList();
      d.allocator = new ExtentAllocator(d.allocator.sizeBytes(), kept);
      deferred.removeIf(x -> x.disk().equals(r.disk()) && x.extent().equals(r.extent()));
    } else if (event instanceof ReleaseDeferred r) {
      deferred.add(new Deferred(r.volume(), r.disk(), r.extent(), r.node(), r.revision()));
    } else if (event instanceof DiskDeclaredDead d) {
      disks.get(d.disk()).dead = true;
    } else if (event instanceof NodeDeclaredLost l) {
      lostNodes.add(l.node());
    } else if (event instanceof NodeDeclaredBack b) {
      lostNodes.remove(b.node());
    } else if (event instanceof NodeAcked a) {
      volumes.get(a.volume()).appliedRev.merge(a.node(), a.revision(), Math::max);
    } else if (event instanceof NodeRemovedAck r) {
      Volume v = volumes.get(r.volume());
      v.removedRev.merge(r.node(), r.revision(), Math::max);
      if (v.leaving.getOrDefault(r.node(), Long.MAX_VALUE) <= r.revision()) {
        v.leaving.remove(r.node());
      }
    } else if (event instanceof StandbyAdded s) {
      Volume v = volumes.get(s.volume());
      List<ControllerPlacement> controllers = new ArrayList<>(v.placement.controllers());
      controllers.add(s.controller());
      v.placement = new VolumePlacement(v.placement.replicas(), controllers);
      useService(s.controller());
      refresh(v);
    } else if (event instanceof StandbyRemoved s) {
      Volume v = volumes.get(s.volume());
      v.placement = new VolumePlacement(v.placement.replicas(), v.placement.controllers().stream()
          .filter(c -> !(c.nodeId().equals(s.node()) && c.role() == ControllerRole.STANDBY)).toList());
      refresh(v);
    } else if (event instanceof FailoverStep f) {
      applyFailover(volumes.get(f.volume()), f.event());
    } else if (event instanceof RebuildStep r) {
      applyRebuild(volumes.get(r.volume()), r.key(), r.event());
    } else {
      throw new IllegalArgumentException("unknown manager event " + event);
    }
  }

  private void useService(ControllerPlacement c) {
    servicesUsed.merge(c.nodeId(), 1, Integer::sum);
  }

  private void applyFailover(Volume v, Failover.Event e) {
    if (e instanceof Failover.Detected d) {
      v.failover = Optional.of(Failover.State.of(d));
      return;
    }
    Failover.State s = v.failover.orElseThrow().apply(e);
    v.failover = Optional.of(s);
    if (e instanceof Failover.EpochBumped b) {
      v.epoch = Math.max(v.epoch, b.epoch());
      refresh(v);
    } else if (e instanceof Failover.FencingRequested) {
      // The failed controller leaves the volume: disk nodes revoke its host NQN at the new epoch.
      v.lastFailed = s.failedController();
      v.placement = new VolumePlacement(v.placement.replicas(), v.placement.controllers().stream()
          .filter(c -> !c.nodeId().equals(s.failedController())).toList());
      refresh(v);
      v.fenceRevision = v.revision;
    } else if (e instanceof Failover.StandbyDropped dropped) {
      v.placement = new VolumePlacement(v.placement.replicas(), v.placement.controllers().stream()
          .filter(c -> !(c.nodeId().equals(dropped.node()) && c.role() == ControllerRole.STANDBY)).toList());
      refresh(v);
    } else if (e instanceof Failover.PromotionRequested p) {
      List<ControllerPlacement> controllers = new ArrayList<>();
      for (ControllerPlacement c : v.placement.controllers()) {
        controllers.add(c.nodeId().equals(p.standby())
            ? new ControllerPlacement(c.nodeId(), ControllerRole.ACTIVE, c.fabricAddress(), c.hostNqn(),
                c.serviceId(), c.anaGroup(), c.cntlidMin(), c.cntlidMax())
            : c);
      }
      v.placement = new VolumePlacement(v.placement.replicas(), controllers);
      refresh(v);
      v.promotionRevision = v.revision;
    } else if (e instanceof Failover.Promoted) {
      v.failoversDone++;
    }
  }

  private void applyRebuild(Volume v, String key, Rebuild.Event e) {
    if (e instanceof Rebuild.MemberLost lost) {
      v.rebuilds.put(key, Rebuild.State.of(lost));
      refresh(v);
      v.droppedAt.put(key, v.revision);
      return;
    }
    Rebuild.State before = v.rebuilds.get(key);
    Rebuild.State s = before.apply(e);
    v.rebuilds.put(key, s);
    if (e instanceof Rebuild.ReplacementGranted g) {
      String tag = tagOf(key);
      Disk disk = disks.get(g.extent().disk());
      Extent extent = disk.allocator.extents().stream()
          .filter(x -> extentId(v.id, x).equals(g.extent().extent())).findFirst().orElseThrow();
      List<ReplicaPlacement> members = new ArrayList<>();
      for (ReplicaPlacement m : v.placement.replicas()) {
        if (m.tag().equals(tag)) {
          ClusterShape.NodeSpec where = shape.node(disk.node);
          members.add(new ReplicaPlacement(m.leg(), m.replica(), disk.id, disk.node, where.rack(), where.zone(),
              where.address(), extent.offsetBytes(), extent.lengthBytes()));
        } else {
          members.add(m);
        }
      }
      v.placement = new VolumePlacement(members, v.placement.controllers());
      refresh(v);
      v.attachedAt.put(key, v.revision);
    } else if (e instanceof Rebuild.ReplacementAbandoned) {
      // Back to the lost member it replaces: a placement names only extents still granted to it.
      ExtentRef lost = s.lost().extent();
      String id = lost.extent();
      long offset = Long.parseLong(id.substring(id.lastIndexOf('@') + 1));
      String tag = tagOf(key);
      ClusterShape.NodeSpec where = shape.node(lost.node());
      long length = VolumeGeometry.of(v.spec).extentBytes();
      List<ReplicaPlacement> members = new ArrayList<>();
      for (ReplicaPlacement m : v.placement.replicas()) {
        members.add(m.tag().equals(tag)
            ? new ReplicaPlacement(m.leg(), m.replica(), lost.disk(), lost.node(), where.rack(), where.zone(),
                where.address(), offset, ExtentAllocator.align(length))
            : m);
      }
      v.placement = new VolumePlacement(members, v.placement.controllers());
      refresh(v);
    } else if (e instanceof Rebuild.InSync
        || e instanceof Rebuild.ReplacementRefused || e instanceof Rebuild.ReplacementRequested) {
      if (e instanceof Rebuild.InSync) {
        v.rebuildsDone++;
      }
      refresh(v);
    }
  }

  static String extentId(String volume, Extent e) {
    return volume + "/" + e.tag() + "@" + e.offsetBytes();
  }

  // ---- desired states ----

  /** Recomputes what every node must hold; nodes whose state changed get the next revision. */
  private void refresh(Volume v) {
    Map<String, DesiredState> next = desiredOf(v);
    long rev = v.revision + 1;
    boolean changed = false;
    Set<String> nodes = new TreeSet<>(v.desired.keySet());
    nodes.addAll(next.keySet());
    for (String node : nodes) {
      DesiredState now = next.get(node);
      if (now == null) {
        v.leaving.put(node, rev);
        v.desiredRev.remove(node);
        changed = true;
      } else if (!now.equals(v.desired.get(node))) {
        v.desiredRev.put(node, rev);
        v.leaving.remove(node);
        changed = true;
      }
    }
    v.desired = next;
    if (changed) {
      v.revision = rev;
    }
  }

  static Map<String, DesiredState> desiredOf(Volume v) {
    VolumeDesign design = new VolumeDesign(v.id, v.epoch, VolumeGeometry.of(v.spec),
        v.spec.layout().replicas(), v.namespaceUuid, v.placement, v.attachments);
    Map<String, DesiredState> built = DesiredStateBuilder.build(design);
    Set<String> lost = v.lostTags();
    Set<String> syncing = v.syncingTags();
    Map<String, DesiredState> out = new LinkedHashMap<>();
    built.forEach((node, state) -> out.put(node, adjusted(v, state, lost, syncing, design.geometry())));
    return out;
  }

  private static DesiredState adjusted(Volume v, DesiredState s, Set<String> lost, Set<String> syncing, VolumeGeometry g) {
    if (lost.isEmpty() && syncing.isEmpty()) {
      return s;
    }
    Set<String> lostSlices = new TreeSet<>();
    Set<String> lostNqns = new TreeSet<>();
    Map<String, Long> errorDevices = new TreeMap<>();
    for (String tag : lost) {
      lostSlices.add(VolumeNames.sliceDm(v.id, tag));
      lostNqns.add(VolumeNames.memberNqn(v.id, tag));
      errorDevices.put(VolumeNames.memberMetaDm(v.id, tag), VolumeGeometry.META_SECTORS);
      errorDevices.put(VolumeNames.memberDataDm(v.id, tag), g.legDataSectors());
    }
    List<DmDevice> dm = new ArrayList<>();
    for (DmDevice d : s.dmDevices()) {
      if (lostSlices.contains(d.name())) {
        continue;
      }
      if (errorDevices.containsKey(d.name())) {
        dm.add(new DmDevice(d.name(), List.of(new DmTableLine(0, errorDevices.get(d.name()), "error", ""))));
      } else {
        dm.add(withRebuild(v, d, syncing));
      }
    }
    List<NvmetSubsystem> subsystems = s.subsystems().stream().filter(x -> !lostNqns.contains(x.nqn())).toList();
    List<NvmetPort> ports = new ArrayList<>();
    for (NvmetPort p : s.ports()) {
      List<String> linked = p.subsystems().stream().filter(n -> !lostNqns.contains(n)).toList();
      if (!linked.isEmpty()) {
        ports.add(new NvmetPort(p.portId(), p.transport(), p.addressFamily(), p.address(), p.serviceId(),
            p.anaGroups(), linked));
      }
    }
    var connections = s.connections().stream().filter(c -> !lostNqns.contains(c.subsystemNqn())).toList();
    return new DesiredState(s.volumeId(), s.epoch(), dm, subsystems, ports, connections);
  }

  /** A leg's raid1 table with {@code rebuild <slot>} for each member being recovered. */
  private static DmDevice withRebuild(Volume v, DmDevice d, Set<String> syncing) {
    for (int leg = 0; leg < v.spec.layout().legs(); leg++) {
      if (!d.name().equals(VolumeNames.legDm(v.id, leg)) || d.table().isEmpty()
          || !d.table().get(0).target().equals("raid")) {
        continue;
      }
      List<Integer> slots = new ArrayList<>();
      for (int r = 0; r < v.spec.layout().replicas(); r++) {
        if (syncing.contains("l" + leg + "r" + r)) {
          slots.add(r);
        }
      }
      if (slots.isEmpty()) {
        return d;
      }
      DmTableLine line = d.table().get(0);
      String prefix = "raid1 3 0 region_size " + VolumeGeometry.REGION_SECTORS + " ";
      if (!line.args().startsWith(prefix)) {
        return d;
      }
      StringBuilder args = new StringBuilder("raid1 " + (3 + 2 * slots.size()) + " 0 region_size "
          + VolumeGeometry.REGION_SECTORS);
      slots.forEach(slot -> args.append(" rebuild ").append(slot));
      args.append(' ').append(line.args().substring(prefix.length()));
      return new DmDevice(d.name(), List.of(new DmTableLine(line.start(), line.length(), line.target(), args.toString())));
    }
    return d;
  }
}
