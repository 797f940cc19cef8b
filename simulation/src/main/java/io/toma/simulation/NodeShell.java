package io.toma.simulation;

import io.toma.healing.HealingSettings;
import io.toma.agent.SelfFence;
import io.toma.kernel.DesiredState;
import io.toma.kernel.DesiredState.AnaState;
import io.toma.kernel.DesiredState.NvmetPort;
import io.toma.kernel.DmRaidStatus;
import io.toma.kernel.KernelException;
import io.toma.kernel.KernelOp;
import io.toma.kernel.KernelState;
import io.toma.kernel.Names;
import io.toma.kernel.reconcile.AppliedRecord;
import io.toma.kernel.reconcile.Reconciler;
import io.toma.kernel.sim.SimDisk;
import io.toma.kernel.sim.SimNode;
import io.toma.volume.VolumeNames;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.function.Consumer;

/**
 * The node side of the simulated world: what {@code NodeAgent} does, without an actor. It keeps
 * the newest desired state per volume in a durable store (a map that survives crashes), reconciles
 * its simulated kernel with {@link Reconciler#diff} towards their union, acknowledges revisions,
 * watches its disks and raid legs, and fences itself ({@link SelfFence}) when it loses the majority.
 *
 * <p>A fenced node keeps its objects but exports {@code inaccessible}; it is reinstated by the
 * production rule ({@link SelfFence#stateReceived}): a majority in sight and a revision newer
 * than the one it fenced at, which the manager gives it when it registers again. A node that
 * boots again comes up fenced: it cannot know whether a failover happened while it was down.
 */
final class NodeShell {
  record Held(long revision, DesiredState desired) {}

  private static final boolean PRINT = System.getenv("TOMA_SIM_TRACE") != null;

  private final String id;
  private final SimNode node;
  private final Map<String, String> diskPaths = new TreeMap<>();

  // ---- durable: survives a crash ----
  private final TreeMap<String, Held> store = new TreeMap<>();
  private AppliedRecord record = AppliedRecord.empty();
  /** The revision each volume was removed at: an older Apply still in flight must not bring it back. */
  private final TreeMap<String, Long> removedAt = new TreeMap<>();

  // ---- memory: lost in a crash ----
  private final TreeMap<String, Long> acked = new TreeMap<>();
  private final TreeMap<String, Long> pendingRemoved = new TreeMap<>();
  private final Set<String> reportedDeadDisks = new TreeSet<>();
  private final Map<String, String> lastRaid = new TreeMap<>();
  private final Map<String, Long> lastRaidAt = new TreeMap<>();
  private SelfFence.State selfFence = SelfFence.State.serving();
  private boolean dirty;
  /** Booted again and not yet heard from the manager: keep registering. */
  private boolean registering;
  private int kernelErrors;

  NodeShell(SimNode node, ClusterShape shape) {
    this.id = node.id();
    this.node = node;
    shape.disks().stream().filter(d -> d.node().equals(id))
        .forEach(d -> diskPaths.put(d.id(), "/dev/nullb" + d.index()));
  }

  String id() {
    return id;
  }

  boolean isUp() {
    return node.isUp();
  }

  Map<String, Held> store() {
    return java.util.Collections.unmodifiableMap(store);
  }

  int kernelErrors() {
    return kernelErrors;
  }

  // ---- messages ----

  void onMessage(Message.ToNode message, Consumer<Message> out) {
    onManagerMessage(message, out);
    // Registered until the manager lifted the fence with a newer revision.
    registering = registering && selfFence.fenced();
  }

  private void onManagerMessage(Message.ToNode message, Consumer<Message> out) {
    if (message instanceof Message.Apply a) {
      Held held = store.get(a.volume());
      if (removedAt.getOrDefault(a.volume(), -1L) >= a.revision()) {
        return;
      }
      if (held == null || held.revision() < a.revision()) {
        store.put(a.volume(), new Held(a.revision(), a.desired()));
        dirty = true;
      } else if (held.revision() == a.revision() && acked.getOrDefault(a.volume(), -1L) >= a.revision()) {
        out.accept(new Message.Applied(id, a.volume(), a.revision()));
      }
      // The agent's rule: only a newer revision, with a majority in sight, lifts the fence.
      SelfFence.Step step = SelfFence.stateReceived(selfFence, a.volume(), a.revision());
      selfFence = step.state();
      if (step.decision() instanceof SelfFence.Reinstate) {
        dirty = true;
      }
    } else if (message instanceof Message.Remove r) {
      Held held = store.get(r.volume());
      if (held == null || held.revision() <= r.revision()) {
        store.remove(r.volume());
        removedAt.merge(r.volume(), r.revision(), Math::max);
        selfFence = SelfFence.volumeRemoved(selfFence, r.volume());
        acked.remove(r.volume());
        pendingRemoved.merge(r.volume(), r.revision(), Math::max);
        dirty = true;
      }
    }
  }

  // ---- faults ----

  void crashed() {
    acked.clear();
    pendingRemoved.clear();
    reportedDeadDisks.clear();
    lastRaid.clear();
    lastRaidAt.clear();
    selfFence = SelfFence.State.serving();
    dirty = false;
  }

  void restarted() {
    crashed();
    selfFence = SelfFence.State.restarted(store.keySet());
    dirty = true;
    registering = true;
  }

  /** Called every step with what the node sees of the cluster; may fence it. */
  void observeMajority(int reachableMembers, int totalMembers, long nowMillis, HealingSettings settings) {
    if (!node.isUp()) {
      return;
    }
    SelfFence.Step step = SelfFence.observe(selfFence, new SelfFence.Membership(reachableMembers, totalMembers, false),
        nowMillis, settings.selfFenceTimeout(), heldRevisions());
    selfFence = step.state();
    if (step.decision() instanceof SelfFence.FenceNow) {
      dirty = true;
      registering = true;
    }
  }

  /**
   * The cluster downed this node (gossip told it, through a member it still reaches): it stops
   * serving every volume at once, as if it had lost the majority. Without this, a node cut from
   * the manager alone keeps a majority in sight, never self-fences, and keeps writing through
   * members on its own disks, which the failover cannot fence.
   */
  void downed() {
    if (!node.isUp()) {
      return;
    }
    SelfFence.Step step = SelfFence.observe(selfFence, new SelfFence.Membership(0, 1, true), 0, java.time.Duration.ZERO,
        heldRevisions());
    selfFence = step.state();
    if (step.decision() instanceof SelfFence.FenceNow) {
      dirty = true;
      registering = true;
    }
  }

  private Map<String, Long> heldRevisions() {
    Map<String, Long> out = new TreeMap<>();
    store.forEach((volume, held) -> out.put(volume, held.revision()));
    return out;
  }

  boolean needsReconcile() {
    return dirty;
  }

  // ---- reconcile ----

  void reconcile(Consumer<Message> out) {
    if (!node.isUp()) {
      return;
    }
    Map<String, DesiredState> held = effective();
    List<KernelOp> remaining;
    try {
      List<KernelOp> ops = Reconciler.diff(held, node.kernel().read(), diskPaths, record);
      boolean failed = false;
      // Past a refused operation, go on with the rest (one unreachable member must not hold every
      // other volume back), but never build on a device whose own step was refused: a raid1
      // reloaded over a member still missing would mark it dead for good.
      Set<String> refusedDevices = new TreeSet<>();
      for (KernelOp op : ops) {
        if (dependsOn(op, refusedDevices)) {
          failed = true;
          continue;
        }
        try {
          node.kernel().apply(op);
          record = record.after(op);
          if (PRINT && id.equals(System.getenv("TOMA_SIM_NODE"))) {
            System.err.println("  " + id + " applied " + op);
          }
        } catch (KernelException | RuntimeException e) {
          failed = true;
          kernelErrors++;
          dmName(op).ifPresent(refusedDevices::add);
          if (PRINT) {
            System.err.println("  " + id + " refused " + op + ": " + e.getMessage());
          }
        }
      }
      if (!failed) {
        record = record.withEpochsOf(held);
        remaining = List.of();
      } else {
        remaining = Reconciler.diff(held, node.kernel().read(), diskPaths, record);
      }
    } catch (KernelException | RuntimeException e) {
      kernelErrors++;
      return;
    }
    if (PRINT && id.equals(System.getenv("TOMA_SIM_NODE"))) {
      System.err.println("  " + id + " remaining " + remaining);
    }
    Set<String> blocked = new TreeSet<>();
    Map<String, DesiredState> known = new TreeMap<>(held);
    pendingRemoved.keySet().forEach(v -> known.putIfAbsent(v, DesiredState.empty(v, 0)));
    for (KernelOp op : remaining) {
      blocked.addAll(volumesTouched(op, known));
    }
    for (Map.Entry<String, Held> e : store.entrySet()) {
      String volume = e.getKey();
      long rev = e.getValue().revision();
      if (!blocked.contains(volume) && acked.getOrDefault(volume, -1L) < rev) {
        acked.put(volume, rev);
        out.accept(new Message.Applied(id, volume, rev));
      }
    }
    for (String volume : new ArrayList<>(pendingRemoved.keySet())) {
      if (!blocked.contains(volume)) {
        out.accept(new Message.Removed(id, volume, pendingRemoved.remove(volume)));
      }
    }
    dirty = !remaining.isEmpty();
  }

  private static java.util.Optional<String> dmName(KernelOp op) {
    if (op instanceof KernelOp.DmCreate o) return java.util.Optional.of(o.name());
    if (op instanceof KernelOp.DmReload o) return java.util.Optional.of(o.name());
    if (op instanceof KernelOp.DmSuspend o) return java.util.Optional.of(o.name());
    if (op instanceof KernelOp.DmResume o) return java.util.Optional.of(o.name());
    return java.util.Optional.empty();
  }

  private static boolean dependsOn(KernelOp op, Set<String> refused) {
    if (refused.isEmpty()) {
      return false;
    }
    List<DesiredState.DmTableLine> table = op instanceof KernelOp.DmCreate c ? c.table()
        : op instanceof KernelOp.DmReload r ? r.table() : List.of();
    boolean depends = dmName(op).map(refused::contains).orElse(false)
        || table.stream().anyMatch(l -> refused.stream().anyMatch(d -> l.args().contains("@dm:" + d + " ")
            || l.args().endsWith("@dm:" + d)));
    if (depends) {
      dmName(op).ifPresent(refused::add);
    }
    return depends;
  }

  /** The held states, with the optimized exports of every volume still fenced turned inaccessible. */
  private Map<String, DesiredState> effective() {
    Map<String, DesiredState> out = new TreeMap<>();
    store.forEach((volume, held) -> out.put(volume,
        selfFence.fences(volume) ? inaccessible(held.desired()) : held.desired()));
    return out;
  }

  private static DesiredState inaccessible(DesiredState s) {
    List<NvmetPort> ports = new ArrayList<>();
    for (NvmetPort p : s.ports()) {
      Map<Integer, AnaState> groups = new TreeMap<>();
      p.anaGroups().forEach((g, st) -> groups.put(g, st == AnaState.OPTIMIZED ? AnaState.INACCESSIBLE : st));
      ports.add(new NvmetPort(p.portId(), p.transport(), p.addressFamily(), p.address(), p.serviceId(), groups, p.subsystems()));
    }
    return new DesiredState(s.volumeId(), s.epoch(), s.dmDevices(), s.subsystems(), ports, s.connections());
  }

  /** Which volumes an operation belongs to (by Toma's names, or by the ports a volume declares). */
  private static Set<String> volumesTouched(KernelOp op, Map<String, DesiredState> held) {
    List<String> names = new ArrayList<>();
    Integer port = null;
    if (op instanceof KernelOp.DmCreate o) names.add(o.name());
    else if (op instanceof KernelOp.DmReload o) names.add(o.name());
    else if (op instanceof KernelOp.DmSuspend o) names.add(o.name());
    else if (op instanceof KernelOp.DmResume o) names.add(o.name());
    else if (op instanceof KernelOp.DmRemove o) names.add(o.name());
    else if (op instanceof KernelOp.SubsystemCreate o) names.add(o.nqn());
    else if (op instanceof KernelOp.SubsystemRemove o) names.add(o.nqn());
    else if (op instanceof KernelOp.SubsystemAllowHost o) names.add(o.nqn());
    else if (op instanceof KernelOp.SubsystemDisallowHost o) names.add(o.nqn());
    else if (op instanceof KernelOp.NamespaceCreate o) names.add(o.nqn());
    else if (op instanceof KernelOp.NamespaceRemove o) names.add(o.nqn());
    else if (op instanceof KernelOp.NamespaceRevalidate o) names.add(o.nqn());
    else if (op instanceof KernelOp.PortLinkSubsystem o) names.add(o.nqn());
    else if (op instanceof KernelOp.PortUnlinkSubsystem o) names.add(o.nqn());
    else if (op instanceof KernelOp.Connect o) names.add(o.connection().subsystemNqn());
    else if (op instanceof KernelOp.Disconnect o) names.add(o.subsystemNqn());
    else if (op instanceof KernelOp.PortCreate o) port = o.portId();
    else if (op instanceof KernelOp.PortRemove o) port = o.portId();
    else if (op instanceof KernelOp.AnaGroupCreate o) port = o.portId();
    else if (op instanceof KernelOp.AnaGroupSetState o) port = o.portId();
    else if (op instanceof KernelOp.AnaGroupRemove o) port = o.portId();
    Set<String> out = new TreeSet<>();
    for (String volume : held.keySet()) {
      for (String name : names) {
        if (belongs(name, volume)) {
          out.add(volume);
        }
      }
      if (port != null) {
        final int p = port;
        if (held.get(volume).ports().stream().anyMatch(x -> x.portId() == p)) {
          out.add(volume);
        }
      }
    }
    if (out.isEmpty() && (port != null || !names.isEmpty() && names.stream().noneMatch(n -> n.startsWith(Names.PREFIX) || n.startsWith(Names.NQN_PREFIX)))) {
      out.addAll(held.keySet()); // not attributable: hold every acknowledgement back
    }
    return out;
  }

  static boolean belongs(String name, String volume) {
    String dm = Names.PREFIX + volume;
    String nqn = Names.NQN_PREFIX + volume;
    return name.equals(dm) || name.startsWith(dm + "-") || name.equals(nqn) || name.startsWith(nqn + ".");
  }

  // ---- watchers ----

  void watch(long nowMillis, Consumer<Message> out) {
    if (!node.isUp()) {
      return;
    }
    if (registering) {
      out.accept(new Message.Registered(id));
    }
    for (SimDisk disk : node.disks()) {
      if (disk.isDead() && reportedDeadDisks.add(disk.id())) {
        out.accept(new Message.DiskLost(id, disk.id(), "I/O errors: the device is gone"));
      }
    }
    KernelState actual;
    try {
      actual = node.kernel().read();
    } catch (KernelException e) {
      return;
    }
    for (Map.Entry<String, Held> e : store.entrySet()) {
      String volume = e.getKey();
      for (int leg = 0; leg < 16; leg++) {
        KernelState.DmDeviceState dm = actual.dmDevices().get(VolumeNames.legDm(volume, leg));
        if (dm == null) {
          break;
        }
        var status = DmRaidStatus.tryParse(dm.status());
        if (status.isEmpty()) {
          continue;
        }
        DmRaidStatus s = status.get();
        int percent = s.totalSectors() == 0 ? 100 : (int) (s.syncedSectors() * 100 / s.totalSectors());
        String key = volume + "/" + leg;
        String summary = s.health() + " " + s.fullyInSync() + " " + percent / 10 + " " + acked.getOrDefault(volume, -1L);
        if (!summary.equals(lastRaid.get(key)) || nowMillis - lastRaidAt.getOrDefault(key, 0L) >= 2_000) {
          lastRaid.put(key, summary);
          lastRaidAt.put(key, nowMillis);
          out.accept(new Message.RaidHealth(id, volume, leg, s.health(), s.fullyInSync(), percent,
              s.syncedSectors(), s.totalSectors(), acked.getOrDefault(volume, -1L)));
        }
      }
    }
  }
}
