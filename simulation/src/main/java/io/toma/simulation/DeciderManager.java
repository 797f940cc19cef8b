package io.toma.simulation;

import io.toma.capacity.CapacityView;
import io.toma.disk.Extent;
import io.toma.disk.ExtentAllocator;
import io.toma.disk.PhysicalDisk;
import io.toma.healing.HealingSettings;
import io.toma.healing.SafetyOverrides;
import io.toma.node.ControllerNode;
import io.toma.topology.DiskFacts;
import io.toma.topology.NodeFacts;
import io.toma.topology.TopologySettings;
import io.toma.topology.VolumePlacement;
import io.toma.topology.VolumeState;
import io.toma.volume.DecisionContext;
import io.toma.volume.Outbound;
import io.toma.volume.VolumeDecider;
import io.toma.volume.VolumeInput;
import io.toma.volume.VolumeRecord;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
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
 * A manager shell around the production {@link VolumeDecider}: the simulation's second shell of
 * the same pure function the {@code VirtualDisk} actor runs. It answers the decider's outbound
 * requests the way the other entities would (extent grants from each disk's
 * {@link ExtentAllocator}, as {@code PhysicalDisk}; controller slots, as {@code ControllerNode}),
 * delivers node states through the world, and rebuilds every volume from its journal on restart.
 *
 * <p>Healing: the shell plays the gossip failure detector (a node out of sight for
 * {@link #NODE_LOSS_AFTER_MILLIS} is lost: {@link VolumeInput.NodeLost} to every
 * volume), answers replacement extents and standby slots, and feeds the controllers' raid status.
 */
final class DeciderManager implements ManagerShell {
  /** The gossip failure detector's delay: longer than self-fencing, so a cut-off minority stops first. */
  static final long NODE_LOSS_AFTER_MILLIS = 4_000;
  /** How often every volume ticks (resends what is owed, times repairs out). */
  static final long RESEND_MILLIS = 1_000;
  /** The first nvmet port a controller node gives a volume (4420 serves the disks' slices). */
  static final int FIRST_SERVICE_ID = 4421;
  private static final boolean PRINT = System.getenv("TOMA_SIM_TRACE") != null;
  private final ClusterShape shape;
  private final SafetyOverrides overrides;
  private final Map<String, List<VolumeRecord.Event>> journal = new TreeMap<>();

  // PhysicalDisk and ControllerNode entities: separate journals, they survive a VirtualDisk restart.
  private final Map<String, ExtentAllocator> allocators = new TreeMap<>();
  private final Set<String> deadDisks = new TreeSet<>();
  private final Map<String, Map<String, Integer>> slots = new TreeMap<>();

  // The VirtualDisk entities' memory: rebuilt from the journal on restart.
  private Map<String, VolumeRecord> records = new TreeMap<>();
  private long ids;
  private long lastTick = Long.MIN_VALUE;
  private final Map<String, Long> unreachableSince = new TreeMap<>();
  /** Nodes the gossip failure detector downed (it is not the manager's: it survives a manager restart). */
  private final Set<String> lost = new TreeSet<>();
  /** When each node's registration was last heeded (shell pacing, not the decider's). */
  private final Map<String, Long> seenAgainAt = new TreeMap<>();

  DeciderManager(ClusterShape shape, SafetyOverrides overrides) {
    this.shape = shape;
    this.overrides = overrides;
    shape.disks().forEach(d -> allocators.put(d.id(), ExtentAllocator.empty(d.sizeBytes())));
  }

  @Override
  public void create(List<VolumeRequest> requests, long now, Consumer<Message> out) {
    for (VolumeRequest r : requests) {
      records.putIfAbsent(r.volume(), VolumeRecord.absent());
      decide(r.volume(), new VolumeInput.Create(r.spec()), now, out);
      if (records.get(r.volume()).phase() == VolumeRecord.Phase.PLACED) {
        decide(r.volume(), new VolumeInput.Attach(r.hostNqn()), now, out);
      }
    }
  }

  private void decide(String volume, VolumeInput input, long now, Consumer<Message> out) {
    DecisionContext ctx = new DecisionContext(now, freshId(volume), TopologySettings.defaults(),
        HealingSettings.defaults(), overrides, snapshot(), Map.of());
    VolumeDecider.Decision d = VolumeDecider.decide(volume, records.get(volume), input, ctx);
    journal.computeIfAbsent(volume, v -> new ArrayList<>()).addAll(d.events());
    if (PRINT) {
      d.events().forEach(e -> System.err.println("  journal " + now + " " + volume + " " + e));
      d.outbound().stream().filter(o -> o instanceof Outbound.Log || o instanceof Outbound.Publish)
          .forEach(o -> System.err.println("  said " + now + " " + volume + " " + o));
    }
    records.put(volume, d.after());
    for (Outbound o : d.outbound()) {
      perform(volume, o, now, out);
    }
  }

  private String freshId(String volume) {
    return UUID.nameUUIDFromBytes(("sim:" + volume + ":" + ids++).getBytes(StandardCharsets.UTF_8)).toString();
  }

  private void perform(String volume, Outbound o, long now, Consumer<Message> out) {
    if (o instanceof Outbound.FetchCapacity f) {
      decide(volume, new VolumeInput.CapacityArrived(f.attempt(), snapshot()), now, out);
    } else if (o instanceof Outbound.RequestExtent r) {
      decide(volume, new VolumeInput.ExtentAnswered(r.attempt(), r.slot(), r.disk(),
          Optional.of(grant(volume, r.disk().diskId(), r.tag(), r.lengthBytes()))), now, out);
    } else if (o instanceof Outbound.RequestReplacementExtent r) {
      decide(volume, new VolumeInput.ReplacementAnswered(r.lostTag(), r.disk(), r.generation(),
          Optional.of(grant(volume, r.disk().diskId(), r.tag(), r.lengthBytes()))), now, out);
    } else if (o instanceof Outbound.RequestStandbySlot r) {
      decide(volume, new VolumeInput.StandbySlotAnswered(r.nodeId(), Optional.of(slot(volume, r.nodeId()))), now, out);
    } else if (o instanceof Outbound.RequestControllerSlot r) {
      decide(volume, new VolumeInput.SlotAnswered(r.attempt(), r.nodeId(), r.role(),
          Optional.of(slot(volume, r.nodeId()))), now, out);
    } else if (o instanceof Outbound.ReleaseExtents r) {
      allocators.computeIfPresent(r.diskId(), (k, a) -> a.without(volume, r.keepTags()));
      if (!r.confirmTarget().isEmpty()) {
        decide(volume, new VolumeInput.ReleaseAnswered(r.confirmTarget(), true), now, out);
      }
    } else if (o instanceof Outbound.ReleaseControllerSlot r) {
      slots.getOrDefault(r.nodeId(), new TreeMap<>()).remove(volume);
      if (!r.confirmTarget().isEmpty()) {
        decide(volume, new VolumeInput.ReleaseAnswered(r.confirmTarget(), true), now, out);
      }
    } else if (o instanceof Outbound.ApplyToNode a) {
      out.accept(new Message.Apply(a.nodeId(), volume, a.revision(), a.desired()));
    } else if (o instanceof Outbound.RemoveFromNode r) {
      out.accept(new Message.Remove(r.nodeId(), volume, r.revision()));
    }
    // GrowExtent is never asked (no resize here); waiters, index, logs: nothing to do in the world.
  }

  private PhysicalDisk.GrantReply grant(String volume, String diskId, String tag, long length) {
    ExtentAllocator a = allocators.get(diskId);
    if (a == null || deadDisks.contains(diskId)) {
      return new PhysicalDisk.Refused(diskId, "disk unknown or dead");
    }
    Optional<Extent> existing = a.find(volume, tag);
    if (existing.isPresent()) {
      return new PhysicalDisk.Granted(diskId, existing.get());
    }
    Optional<Extent> fit = a.firstFit(volume, tag, length);
    if (fit.isEmpty()) {
      return new PhysicalDisk.Refused(diskId, "no room for " + length + " bytes");
    }
    allocators.put(diskId, a.with(fit.get()));
    return new PhysicalDisk.Granted(diskId, fit.get());
  }

  private ControllerNode.SlotReply slot(String volume, String nodeId) {
    Map<String, Integer> hosted = slots.computeIfAbsent(nodeId, k -> new TreeMap<>());
    int serviceId = hosted.computeIfAbsent(volume, v -> FIRST_SERVICE_ID
        + (int) hosted.values().stream().distinct().count());
    return new ControllerNode.SlotGranted(facts(shape.node(nodeId)), serviceId);
  }

  static String hostNqnOf(String node) {
    return io.toma.kernel.Names.NQN_PREFIX + "node." + node;
  }

  private NodeFacts facts(ClusterShape.NodeSpec n) {
    Set<String> roles = new TreeSet<>();
    if (n.disk()) {
      roles.add(NodeFacts.ROLE_DISK);
    }
    if (n.controller()) {
      roles.add(NodeFacts.ROLE_CONTROLLER);
    }
    return new NodeFacts(n.id(), roles, n.zone(), n.rack(), n.address(), hostNqnOf(n.id()), false,
        slots.getOrDefault(n.id(), Map.of()).size());
  }

  private CapacityView.Snapshot snapshot() {
    List<DiskFacts> disks = new ArrayList<>();
    for (ClusterShape.DiskSpec d : shape.disks()) {
      ClusterShape.NodeSpec n = shape.node(d.node());
      ExtentAllocator a = allocators.get(d.id());
      disks.add(new DiskFacts(d.id(), d.node(), n.zone(), n.rack(), d.sizeBytes(), a.freeBytes(), !deadDisks.contains(d.id())));
    }
    return new CapacityView.Snapshot(disks, shape.nodes().stream().map(this::facts).toList());
  }

  @Override
  public void onMessage(Message.ToManager message, long now, Consumer<Message> out) {
    if (message instanceof Message.Applied a && records.containsKey(a.volume())) {
      decide(a.volume(), new VolumeInput.Applied(a.node(), a.revision()), now, out);
    } else if (message instanceof Message.Removed r && records.containsKey(r.volume())) {
      decide(r.volume(), new VolumeInput.Removed(r.node(), r.revision()), now, out);
    } else if (message instanceof Message.RaidHealth h && records.containsKey(h.volume())) {
      decide(h.volume(), new VolumeInput.RaidStatus(h.node(), io.toma.volume.VolumeNames.legDm(h.volume(), h.leg()),
          h.health(), h.syncedSectors(), h.totalSectors()), now, out);
    } else if (message instanceof Message.Registered r) {
      seenAgain(r.node(), now, out);
    } else if (message instanceof Message.DiskLost d) {
      deadDisks.add(d.disk());
      for (String volume : new ArrayList<>(records.keySet())) {
        decide(volume, new VolumeInput.MemberLost(d.disk(), d.reason()), now, out);
      }
    }
  }

  /**
   * A node that registered again (it fenced itself or booted) or came back from a loss: every
   * volume gives it a new revision (as {@code NodeReports} has them do in production), then it is
   * sent every current state. A node keeps registering until unfenced; one registration per
   * {@link #RESEND_MILLIS} is heeded, as a real agent registers once per event.
   */
  private void seenAgain(String node, long now, Consumer<Message> out) {
    if (now - seenAgainAt.getOrDefault(node, Long.MIN_VALUE / 2) < RESEND_MILLIS) {
      return;
    }
    seenAgainAt.put(node, now);
    for (String volume : new ArrayList<>(records.keySet())) {
      decide(volume, new VolumeInput.NodeSeenAgain(node), now, out);
    }
    resendAll(node, out);
  }

  /** Every current state (or removal) for a node that fenced itself or booted again. */
  private void resendAll(String node, Consumer<Message> out) {
    records.forEach((volume, r) -> {
      io.toma.kernel.DesiredState desired = r.desiredStates().get(node);
      if (desired != null) {
        out.accept(new Message.Apply(node, volume, r.desiredRevisions().getOrDefault(node, 0L), desired));
      }
    });
  }

  @Override
  public void tick(long now, Predicate<String> reachable, Consumer<Message> out) {
    for (ClusterShape.NodeSpec n : shape.nodes()) {
      if (reachable.test(n.id())) {
        unreachableSince.remove(n.id());
        if (lost.remove(n.id())) {
          seenAgain(n.id(), now, out);
        }
      } else {
        long since = unreachableSince.computeIfAbsent(n.id(), k -> now);
        if (now - since >= NODE_LOSS_AFTER_MILLIS && lost.add(n.id())) {
          for (String volume : new ArrayList<>(records.keySet())) {
            decide(volume, new VolumeInput.NodeLost(n.id(), "out of sight for " + (now - since) + " ms"), now, out);
          }
        }
      }
    }
    if (lastTick != Long.MIN_VALUE && now - lastTick < RESEND_MILLIS) {
      return;
    }
    lastTick = now;
    for (String volume : new ArrayList<>(records.keySet())) {
      // as the VirtualDisk entity: an idle volume has no tick (VolumeDecider.needsTick)
      if (io.toma.volume.VolumeDecider.needsTick(records.get(volume))) {
        decide(volume, new VolumeInput.Tick(), now, out);
      }
    }
  }

  @Override
  public void restart(long now, Consumer<Message> out) {
    Map<String, VolumeRecord> rebuilt = new TreeMap<>();
    journal.forEach((volume, events) -> {
      VolumeRecord r = VolumeRecord.absent();
      for (VolumeRecord.Event e : events) {
        r = r.apply(e);
      }
      rebuilt.put(volume, r);
    });
    records = rebuilt;
    lastTick = Long.MIN_VALUE;
    for (String volume : new ArrayList<>(records.keySet())) {
      decide(volume, new VolumeInput.Recovered(), now, out);
    }
  }

  @Override
  public Map<String, VolumeView> volumes() {
    Map<String, VolumeView> out = new TreeMap<>();
    records.forEach((id, r) -> {
      VolumePlacement p = r.placement().orElse(new VolumePlacement(List.of(), List.of()));
      // As the healing shell: a rebuild whose replacement placement refused is short of capacity.
      boolean capacityShort = r.healing().rebuilds().values().stream()
          .anyMatch(b -> b.pending() && b.lastRefusal().isPresent());
      out.put(id, new VolumeView(id, p.controllers(), p.replicas(), r.attachments(), r.desiredStates(), Set.of(),
          r.visibleState() == VolumeState.ONLINE, capacityShort, r.reason().orElse("online")));
    });
    return out;
  }

  @Override
  public Map<String, DiskView> disks() {
    Map<String, DiskView> out = new TreeMap<>();
    shape.disks().forEach(d -> out.put(d.id(), new DiskView(d.id(), d.node(), deadDisks.contains(d.id()), allocators.get(d.id()))));
    return out;
  }

  @Override
  public Set<String> downedNodes() {
    return Set.copyOf(lost);
  }

  @Override
  public int repairsDone() {
    // finished rebuilds and failovers, as the volumes' own stage machines recorded them
    return records.values().stream().mapToInt(r -> (int) r.healing().rebuilds().values().stream()
        .filter(b -> b.stage() == io.toma.healing.Rebuild.Stage.DONE).count()
        + (r.healing().failover().map(f -> f.stage() == io.toma.healing.Failover.Stage.DONE).orElse(false) ? 1 : 0))
        .sum();
  }
}
