package io.toma.simulation;

import io.toma.healing.HealingSettings;
import io.toma.kernel.KernelException;
import io.toma.kernel.KernelState;
import io.toma.kernel.Names;
import io.toma.kernel.sim.SimCluster;
import io.toma.kernel.sim.SimDisk;
import io.toma.kernel.sim.SimHost;
import io.toma.kernel.sim.SimNode;
import io.toma.topology.FailureDomainLevel;
import io.toma.topology.Layout;
import io.toma.topology.VolumeSpec;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;

/**
 * One simulated world, single-threaded: a seeded random source, a queue of timed messages, the
 * simulated cluster's manual clock, node shells, the manager shell and hosts. Every step delivers
 * what is due, lets nodes and the manager act, runs host I/O, moves time and checks invariants.
 */
final class World {
  private static final String MANAGER = "manager";

  private final long seed;
  private final Options options;
  private final Random random;
  private final ClusterShape shape;
  private final FaultPlan plan;
  private final SimCluster cluster = SimCluster.create();
  private final Map<String, NodeShell> nodes = new TreeMap<>();
  private final List<HostDriver> hosts = new ArrayList<>();
  private final Map<String, HostDriver> hostOf = new TreeMap<>();
  /** Set TOMA_SIM_TRACE=1 to print the trace and the manager's journal as the run goes. */
  private static final boolean PRINT = System.getenv("TOMA_SIM_TRACE") != null;
  private final HealingSettings settings = HealingSettings.defaults();
  private final ManagerShell manager;
  private final MessageQueue queue = new MessageQueue();
  private final MessageDigest trace;

  /** How long the news that the cluster downed a node takes to reach it through gossip. */
  static final long DOWNING_GOSSIP_MILLIS = 1_500;

  private final Set<String> partition = new TreeSet<>();
  private final Map<String, Long> downedSince = new TreeMap<>();
  private final Set<String> controlCut = new TreeSet<>();
  private final List<Heal> heals = new ArrayList<>();
  private final Map<FaultKind, Integer> faults = new EnumMap<>(FaultKind.class);
  private final List<Violation> violations = new ArrayList<>();
  private final Set<String> reported = new TreeSet<>();
  private long now;
  private long step;

  private record Heal(long atMillis, Runnable action) {}

  World(long seed, Options options) {
    this.seed = seed;
    this.options = options;
    this.random = new Random(seed);
    this.shape = ClusterShape.random(random, options);
    this.plan = FaultPlan.random(random, options);
    try {
      this.trace = MessageDigest.getInstance("SHA-256");
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException(e);
    }
    for (ClusterShape.NodeSpec n : shape.nodes()) {
      SimNode node = cluster.addNode(n.id(), n.address());
      shape.disks().stream().filter(d -> d.node().equals(n.id()))
          .forEach(d -> node.addDisk(d.id(), "/dev/nullb" + d.index(), d.sizeBytes()));
      nodes.put(n.id(), new NodeShell(node, shape));
    }
    int hostCount = 1 + random.nextInt(2);
    for (int i = 1; i <= hostCount; i++) {
      SimHost host = cluster.addHost("h" + i, "10.9.0." + i, Names.NQN_PREFIX + "host-" + i);
      hosts.add(new HostDriver(host));
    }
    this.manager = new DeciderManager(shape, options.overrides());
  }

  RunReport run() {
    List<ManagerShell.VolumeRequest> requests = volumeRequests();
    manager.create(requests, now, this::send);
    long stepMillis = options.step().toMillis();
    long quietFrom = plan.quietFromMillis();
    long deadline = quietFrom + options.onlineBound().toMillis();
    long quietUntil = quietFrom + options.quietPeriod().toMillis();
    int nextFault = 0;
    boolean converged = false;
    while (true) {
      while (nextFault < plan.faults().size() && plan.faults().get(nextFault).atMillis() <= now) {
        inject(plan.faults().get(nextFault++));
      }
      heals.removeIf(h -> {
        if (h.atMillis() <= now) {
          h.action().run();
          return true;
        }
        return false;
      });
      for (Message m : queue.due(now)) {
        deliver(m);
      }
      Set<String> downed = manager.downedNodes();
      downedSince.keySet().retainAll(downed);
      for (NodeShell node : nodes.values()) {
        if (downed.contains(node.id())) {
          long since = downedSince.computeIfAbsent(node.id(), k -> now);
          if (now - since >= DOWNING_GOSSIP_MILLIS && gossipReaches(node.id())) {
            node.downed();
          }
        }
        node.observeMajority(reachableMembers(node.id()), shape.nodes().size() + 1, now, settings);
        if (node.needsReconcile() || now % 1_000 == 0) {
          node.reconcile(this::send);
        }
        if (now % 500 == 0) {
          node.watch(now, this::send);
        }
      }
      manager.tick(now, n -> controlReachable(MANAGER, n), this::send);
      Map<String, ManagerShell.VolumeView> volumes = manager.volumes();
      if (now % 500 == 0) {
        for (ManagerShell.VolumeView v : volumes.values()) {
          v.attachments().forEach(h -> hostOf.get(h).discover(v));
        }
      }
      StringBuilder io = new StringBuilder();
      for (ManagerShell.VolumeView v : volumes.values()) {
        for (String h : v.attachments()) {
          io.append(hostOf.get(h).io(v.volume(), random, this::violation));
        }
      }
      trace("io " + now + " " + io);
      cluster.advance(Duration.ofMillis(stepMillis));
      now += stepMillis;
      step++;
      checkStep(volumes);
      if (now >= quietUntil && heals.isEmpty()) {
        boolean allOnline = volumes.values().stream().allMatch(v -> v.online() || v.capacityShort());
        boolean noneLeaving = volumes.values().stream().allMatch(v -> v.leaving().isEmpty());
        if (allOnline && noneLeaving) {
          converged = true;
          break;
        }
        if (now >= Math.max(deadline, quietUntil)) {
          break;
        }
      }
    }
    finish(converged);
    Map<String, String> finalState = new TreeMap<>();
    manager.volumes().forEach((id, v) -> finalState.put(id, v.reason()));
    long acked = hosts.stream().mapToLong(HostDriver::acknowledgedWrites).sum();
    trace("end " + finalState + " " + acked + " " + manager.repairsDone());
    return new RunReport(seed, shape.describe(), new TreeMap<>(faults), manager.repairsDone(), acked,
        violations, finalState, now, HexFormat.of().formatHex(trace.digest()));
  }

  // ---- setup ----

  private List<ManagerShell.VolumeRequest> volumeRequests() {
    int count = options.minVolumes() + random.nextInt(options.maxVolumes() - options.minVolumes() + 1);
    Set<String> diskRacks = new TreeSet<>();
    shape.nodes().stream().filter(ClusterShape.NodeSpec::disk).forEach(n -> diskRacks.add(n.zone() + "/" + n.rack()));
    long diskNodes = shape.count(ClusterShape.NodeSpec::disk);
    long controllers = shape.count(ClusterShape.NodeSpec::controller);
    List<ManagerShell.VolumeRequest> out = new ArrayList<>();
    for (int i = 1; i <= count; i++) {
      int legs = 1 + random.nextInt(2);
      // One domain more than the replicas, so a lost member has somewhere to go.
      int replicas = 2 + (diskNodes >= 4 ? random.nextInt(2) : 0);
      boolean rack = diskRacks.size() > replicas && random.nextBoolean();
      int standbys = controllers >= 3 ? random.nextInt(2) : 0;
      Layout layout = Layout.of(legs, replicas, standbys, rack ? FailureDomainLevel.RACK : FailureDomainLevel.NODE);
      long size = (8L + 8L * random.nextInt(2)) * VolumeSpec.MIB * legs;
      HostDriver host = hosts.get(random.nextInt(hosts.size()));
      hostOf.put(host.hostNqn(), host);
      out.add(new ManagerShell.VolumeRequest("vol-" + i, new VolumeSpec("vol-" + i, size, layout), host.hostNqn()));
    }
    return out;
  }

  // ---- the network ----

  private void send(Message m) {
    long delay = 1 + random.nextInt(150);
    queue.send(m, now + delay);
  }

  private void deliver(Message m) {
    boolean reachable = controlReachable(MANAGER, m.node());
    trace((reachable ? "deliver " : "drop ") + now + " " + brief(m));
    if (!reachable) {
      return;
    }
    if (m instanceof Message.ToNode toNode) {
      nodes.get(m.node()).onMessage(toNode, this::send);
    } else if (m instanceof Message.ToManager toManager) {
      manager.onMessage(toManager, now, this::send);
    }
  }

  private static String brief(Message m) {
    if (m instanceof Message.Apply a) {
      return "apply " + a.node() + " " + a.volume() + " " + a.revision();
    }
    return m.toString();
  }

  /** The cluster (control) network: both ends up, no partition between them, no cut to the manager. */
  private boolean controlReachable(String a, String b) {
    if (!up(a) || !up(b)) {
      return false;
    }
    if (partition.contains(a) != partition.contains(b)) {
      return false;
    }
    return !(a.equals(MANAGER) && controlCut.contains(b) || b.equals(MANAGER) && controlCut.contains(a));
  }

  private boolean up(String node) {
    return node.equals(MANAGER) || cluster.node(node).isUp();
  }

  /** Whether the node hears the cluster's gossip through some other member. */
  private boolean gossipReaches(String node) {
    return nodes.keySet().stream().anyMatch(o -> !o.equals(node) && controlReachable(node, o));
  }

  private int reachableMembers(String node) {
    int count = controlReachable(node, MANAGER) ? 1 : 0;
    for (String other : nodes.keySet()) {
      if (other.equals(node) || controlReachable(node, other)) {
        count++;
      }
    }
    return count;
  }

  // ---- faults ----

  private void inject(FaultPlan.Planned fault) {
    long healAt = now + fault.durationMillis();
    List<String> storage = new ArrayList<>(nodes.keySet());
    Map<String, ManagerShell.VolumeView> volumes = manager.volumes();
    String what;
    switch (fault.kind()) {
      case DISK_DEATH -> {
        List<String> used = new ArrayList<>(new TreeSet<>(volumes.values().stream()
            .flatMap(v -> v.members().stream()).map(m -> m.nodeId() + " " + m.diskId()).toList()));
        if (used.isEmpty()) {
          return;
        }
        String[] pick = used.get(random.nextInt(used.size())).split(" ");
        cluster.killDisk(pick[0], pick[1]);
        what = pick[1];
      }
      case SLOW_DISK -> {
        ClusterShape.DiskSpec d = shape.disks().get(random.nextInt(shape.disks().size()));
        Duration latency = Duration.ofMillis(20 + random.nextInt(300));
        cluster.slowDisk(d.node(), d.id(), latency);
        heals.add(new Heal(healAt, () -> cluster.slowDisk(d.node(), d.id(), Duration.ZERO)));
        what = d.id() + " +" + latency.toMillis() + "ms";
      }
      case LINK_CUT -> {
        List<String[]> pairs = new ArrayList<>();
        for (ManagerShell.VolumeView v : volumes.values()) {
          v.controllers().stream().filter(c -> c.role() == io.toma.topology.ControllerRole.ACTIVE).forEach(c ->
              v.members().stream().filter(m -> !m.nodeId().equals(c.nodeId()))
                  .forEach(m -> pairs.add(new String[] {c.nodeId(), m.nodeId()})));
        }
        String[] pair = pairs.isEmpty() ? new String[] {storage.get(0), storage.get(1)} : pairs.get(random.nextInt(pairs.size()));
        cluster.cutLink(pair[0], pair[1]);
        heals.add(new Heal(healAt, () -> cluster.healLink(pair[0], pair[1])));
        what = pair[0] + "<->" + pair[1];
      }
      case NODE_CRASH -> {
        String n = storage.get(random.nextInt(storage.size()));
        crash(List.of(n), healAt);
        what = n;
      }
      case RACK_LOSS -> {
        List<String> racks = new ArrayList<>(shape.racks());
        java.util.Collections.shuffle(racks, random);
        String rack = "";
        List<String> members = List.of();
        for (String candidate : racks) {
          List<String> inRack = shape.nodesInRack(candidate);
          if (2 * inRack.size() < nodes.size() + 1 && withinRedundancy(volumes, inRack)) {
            rack = candidate;
            members = inRack;
            break;
          }
        }
        if (members.isEmpty()) {
          return;
        }
        crash(members, healAt);
        what = rack + " " + members;
      }
      case PARTITION -> {
        int max = (nodes.size() + 1 - 1) / 2;
        int size = 1 + random.nextInt(Math.max(1, max));
        while (2 * size >= nodes.size() + 1) {
          size--;
        }
        List<String> minority = List.of();
        for (int attempt = 0; attempt < 10 && minority.isEmpty(); attempt++) {
          List<String> shuffled = new ArrayList<>(storage);
          java.util.Collections.shuffle(shuffled, random);
          List<String> candidate = List.copyOf(new TreeSet<>(shuffled.subList(0, size)));
          if (withinRedundancy(volumes, candidate)) {
            minority = candidate;
          }
        }
        if (minority.isEmpty()) {
          return;
        }
        final List<String> cut = minority;
        List<String> others = new ArrayList<>(storage);
        others.removeAll(cut);
        hosts.forEach(h -> others.add(hostNode(h)));
        for (String a : minority) {
          for (String b : others) {
            cluster.cutLink(a, b);
          }
        }
        partition.addAll(minority);
        heals.add(new Heal(healAt, () -> {
          for (String a : cut) {
            for (String b : others) {
              cluster.healLink(a, b);
            }
          }
          partition.removeAll(cut);
        }));
        what = minority.toString();
      }
      case CONTROL_LINK_CUT -> {
        List<String> actives = new ArrayList<>(new TreeSet<>(volumes.values().stream()
            .flatMap(v -> v.controllers().stream())
            .filter(c -> c.role() == io.toma.topology.ControllerRole.ACTIVE)
            .map(io.toma.topology.ControllerPlacement::nodeId).toList()));
        String n = actives.isEmpty() ? storage.get(random.nextInt(storage.size())) : actives.get(random.nextInt(actives.size()));
        controlCut.add(n);
        heals.add(new Heal(healAt, () -> controlCut.remove(n)));
        what = n;
      }
      case MANAGER_RESTART -> {
        manager.restart(now, this::send);
        what = "";
      }
      default -> throw new IllegalStateException("unknown fault " + fault.kind());
    }
    faults.merge(fault.kind(), 1, Integer::sum);
    trace("fault " + now + " " + fault.kind() + " " + what + " for " + fault.durationMillis());
  }

  /**
   * Whether losing these nodes together stays within what the layouts promise: every leg keeps a
   * member elsewhere. Schedules only draw such faults: losing every copy is unavailability by
   * design, not a bug the checkers should report.
   */
  private static boolean withinRedundancy(Map<String, ManagerShell.VolumeView> volumes, List<String> victims) {
    for (ManagerShell.VolumeView v : volumes.values()) {
      Map<Integer, Boolean> spared = new TreeMap<>();
      v.members().forEach(m -> spared.merge(m.leg(), !victims.contains(m.nodeId()), Boolean::logicalOr));
      if (spared.containsValue(false)) {
        return false;
      }
    }
    return true;
  }

  private static String hostNode(HostDriver h) {
    return "h" + h.hostNqn().substring(h.hostNqn().lastIndexOf('-') + 1);
  }

  private void crash(List<String> victims, long healAt) {
    for (String n : victims) {
      if (cluster.node(n).isUp()) {
        cluster.crash(n);
        nodes.get(n).crashed();
      }
    }
    heals.add(new Heal(healAt, () -> {
      for (String n : victims) {
        if (!cluster.node(n).isUp()) {
          cluster.restart(n);
          nodes.get(n).restarted();
        }
      }
    }));
  }

  // ---- invariants ----

  private Map<String, KernelState> liveKernels() {
    Map<String, KernelState> out = new LinkedHashMap<>();
    for (NodeShell node : nodes.values()) {
      if (node.isUp()) {
        try {
          out.put(node.id(), cluster.node(node.id()).kernel().read());
        } catch (KernelException e) {
          // down between the check and the read: nothing to see
        }
      }
    }
    return out;
  }

  private Set<String> deadDisks() {
    Set<String> dead = new TreeSet<>();
    for (SimNode n : cluster.nodes()) {
      n.disks().stream().filter(SimDisk::isDead).forEach(d -> dead.add(d.id()));
    }
    return dead;
  }

  private void checkStep(Map<String, ManagerShell.VolumeView> volumes) {
    Map<String, KernelState> kernels = liveKernels();
    Invariants.twoWriters(volumes, kernels).forEach(this::finding);
    Invariants.extentsOwnedOnce(shape, manager.volumes(), manager.disks(), kernels, deadDisks()).forEach(this::finding);
  }

  private void finish(boolean converged) {
    if (PRINT) {
      liveKernels().forEach((n, k) -> System.err.println("kernel " + n + " ports " + k.ports().values()
          + " subsystems " + k.subsystems().keySet() + " controllers " + k.controllers()));
    }
    Map<String, ManagerShell.VolumeView> volumes = manager.volumes();
    if (!converged) {
      for (ManagerShell.VolumeView v : volumes.values()) {
        if (!v.online() && !v.capacityShort()) {
          violation(Violation.Invariant.NOT_ONLINE_IN_TIME, v.volume(), "volume " + v.volume() + " is not Online "
              + options.onlineBound().toSeconds() + " s after the faults stopped: " + v.reason());
        }
      }
    }
    for (ManagerShell.VolumeView v : volumes.values()) {
      for (String h : v.attachments()) {
        hostOf.get(h).verifyAll(v.volume(), v.online(), this::violation);
      }
    }
    if (converged) {
      // Let the last removals and reconciles land before looking for leftovers.
      for (NodeShell node : nodes.values()) {
        node.reconcile(this::send);
      }
      Invariants.orphans(volumes, liveKernels()).forEach(this::finding);
    }
  }

  private void finding(Invariants.Finding f) {
    violation(f.invariant(), f.subject(), f.detail());
  }

  private void violation(Violation.Invariant invariant, String subject, String detail) {
    if (reported.add(invariant + "|" + subject)) {
      violations.add(new Violation(invariant, step, now, detail));
      trace("violation " + invariant + " " + detail);
    }
  }

  private void trace(String line) {
    if (PRINT) {
      System.err.println(line);
    }
    trace.update(line.getBytes(StandardCharsets.UTF_8));
    trace.update((byte) '\n');
  }
}
