package io.toma.volume;

import io.toma.capacity.CapacityView;
import io.toma.disk.Extent;
import io.toma.disk.PhysicalDisk;
import io.toma.healing.HealingSettings;
import io.toma.healing.SafetyOverrides;
import io.toma.kernel.DesiredState;
import io.toma.node.ControllerNode;
import io.toma.topology.DiskFacts;
import io.toma.topology.NodeFacts;
import io.toma.topology.TopologySettings;
import io.toma.topology.VolumeState;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;

/**
 * A single-threaded world around {@link VolumeDecider} for plain unit tests: it plays the shell
 * (persists by folding events, delivers outbound messages in order) and the other parties (disks
 * grant extents, controller nodes grant slots, node agents apply at once unless their node is
 * dead, the capacity view answers). Everything that happens is written to {@link #log}, so tests
 * assert on the order an operator would see. Time moves only through {@link #advance}.
 */
final class DeciderWorld {
  final String volumeId;
  VolumeRecord record = VolumeRecord.absent();
  /** The record as the journal has it (what a restart recovers). */
  VolumeRecord persisted = VolumeRecord.absent();
  final List<String> log = new ArrayList<>();
  final List<VolumeRecord.Event> journal = new ArrayList<>();
  final Set<String> deadNodes = new TreeSet<>();
  /** Nodes whose agents hold Applies instead of answering (a slow or silent agent). */
  final Set<String> silentNodes = new TreeSet<>();
  /** Nodes whose agents hold only a promoted (ANA optimized) state: a promotion in flight. */
  final Set<String> slowToPromote = new TreeSet<>();
  final Map<String, List<DesiredState>> appliedStates = new TreeMap<>();
  final List<NodeFacts> nodes = new ArrayList<>();
  final List<DiskFacts> disks = new ArrayList<>();
  final Map<String, Long> nextOffset = new TreeMap<>();
  final Map<String, VolumeViews.RaidHealth> raid = new TreeMap<>();
  final Deque<VolumeInput> inbox = new ArrayDeque<>();
  /** Runs before a replacement request is answered (a fault that strikes while the grant is on its way). */
  java.util.function.Consumer<Outbound.RequestReplacementExtent> beforeReplacementAnswer = r -> { };
  /** Every extent release asked, confirmed or not, in order. */
  final List<Outbound.ReleaseExtents> releases = new ArrayList<>();
  final List<Outbound> held = new ArrayList<>();
  /** While true, extent and slot requests are granted but their answers are lost (a restart strikes first). */
  boolean holdGrants;
  final List<Outbound> grantsAsked = new ArrayList<>();
  HealingSettings healing = HealingSettings.defaults();
  long now = 1_000_000;
  int ids = 0;

  DeciderWorld(String volumeId) {
    this.volumeId = volumeId;
  }

  /** racks x nodesPerRack nodes, each with one 1 TiB disk, every node both disk and controller. */
  DeciderWorld withRacks(int racks, int nodesPerRack) {
    for (int r = 1; r <= racks; r++) {
      for (int n = 1; n <= nodesPerRack; n++) {
        String node = "r" + r + "n" + n;
        nodes.add(new NodeFacts(node, Set.of("disk", "controller"), "z1", "rack" + r, "10.0." + r + "." + n,
            "nqn.2026-11.io.toma:host:" + node, false, 0));
        disks.add(new DiskFacts(node + "-d0", node, "z1", "rack" + r, 1L << 40, 1L << 40, true));
      }
    }
    return this;
  }

  DecisionContext context() {
    return new DecisionContext(now, "uuid-" + (++ids), TopologySettings.defaults(), healing, SafetyOverrides.SAFE,
        snapshot(), raid);
  }

  CapacityView.Snapshot snapshot() {
    List<DiskFacts> live = disks.stream().filter(d -> !deadNodes.contains(d.nodeId())).toList();
    return new CapacityView.Snapshot(live, nodes);
  }

  /** Feed one input and everything it causes, until nothing moves. */
  VolumeDecider.Decision feed(VolumeInput input) {
    VolumeDecider.Decision first = step(input);
    drain();
    return first;
  }

  void drain() {
    while (!inbox.isEmpty()) {
      step(inbox.poll());
    }
  }

  private VolumeDecider.Decision step(VolumeInput input) {
    VolumeDecider.Decision d = VolumeDecider.decide(volumeId, record, input, context());
    VolumeState before = record.visibleState();
    for (VolumeRecord.Event e : d.events()) {
      persisted = persisted.apply(e); // the event handler, as on replay
      journal.add(e);
    }
    record = d.after(); // the shell decides next on what it learnt, persisted or not
    if (!withoutMemory(persisted).equals(withoutMemory(record))) {
      throw new AssertionError("the decision's state differs from its events folded in, beyond what it keeps in"
          + " memory only:\n" + withoutMemory(persisted) + "\n" + withoutMemory(record));
    }
    if (record.phase() == VolumeRecord.Phase.PLACED && before != record.visibleState()) {
      log.add("state " + record.visibleState().display());
    }
    d.outbound().forEach(this::deliver);
    return d;
  }

  private void deliver(Outbound out) {
    if (out instanceof Outbound.FetchCapacity f) {
      inbox.add(new VolumeInput.CapacityArrived(f.attempt(), snapshot()));
    } else if (holdGrants && (out instanceof Outbound.RequestExtent || out instanceof Outbound.RequestControllerSlot)) {
      grantsAsked.add(out); // granted by the entity (the release test sees it), the answer never comes back
      if (out instanceof Outbound.RequestExtent r) {
        grant(r.disk().diskId(), r.tag(), r.lengthBytes());
      }
    } else if (out instanceof Outbound.RequestExtent r) {
      inbox.add(new VolumeInput.ExtentAnswered(r.attempt(), r.slot(), r.disk(),
          java.util.Optional.of(grant(r.disk().diskId(), r.tag(), r.lengthBytes()))));
    } else if (out instanceof Outbound.RequestReplacementExtent r) {
      log.add("replacement " + r.tag() + " on " + r.disk().diskId());
      beforeReplacementAnswer.accept(r);
      inbox.add(new VolumeInput.ReplacementAnswered(r.lostTag(), r.disk(), r.generation(),
          java.util.Optional.of(grant(r.disk().diskId(), r.tag(), r.lengthBytes()))));
    } else if (out instanceof Outbound.RequestControllerSlot r) {
      inbox.add(new VolumeInput.SlotAnswered(r.attempt(), r.nodeId(), r.role(),
          java.util.Optional.of(new ControllerNode.SlotGranted(node(r.nodeId()), 4430))));
    } else if (out instanceof Outbound.RequestStandbySlot r) {
      log.add("standby slot on " + r.nodeId());
      inbox.add(new VolumeInput.StandbySlotAnswered(r.nodeId(),
          java.util.Optional.of(new ControllerNode.SlotGranted(node(r.nodeId()), 4431))));
    } else if (out instanceof Outbound.ApplyToNode a) {
      if (deadNodes.contains(a.nodeId())) {
        return;
      }
      if (silentNodes.contains(a.nodeId()) || (slowToPromote.contains(a.nodeId()) && optimized(a.desired()))) {
        held.add(a);
        return;
      }
      apply(a);
    } else if (out instanceof Outbound.RemoveFromNode r) {
      if (deadNodes.contains(r.nodeId()) || silentNodes.contains(r.nodeId())) {
        return;
      }
      log.add("removed " + r.nodeId() + " rev " + r.revision());
      inbox.add(new VolumeInput.Removed(r.nodeId(), r.revision()));
    } else if (out instanceof Outbound.ReleaseExtents r) {
      releases.add(r);
      if (!r.confirmTarget().isEmpty()) {
        log.add("release " + r.diskId() + " keeping " + r.keepTags());
        inbox.add(new VolumeInput.ReleaseAnswered(r.confirmTarget(), true));
      }
    }
  }

  private void apply(Outbound.ApplyToNode a) {
    appliedStates.computeIfAbsent(a.nodeId(), k -> new ArrayList<>()).add(a.desired());
    log.add("applied " + a.nodeId() + " rev " + a.revision() + " epoch " + a.desired().epoch()
        + (optimized(a.desired()) ? " optimized" : ""));
    inbox.add(new VolumeInput.Applied(a.nodeId(), a.revision()));
  }

  /** Let silent agents answer what they hold. */
  void release(String node) {
    silentNodes.remove(node);
    slowToPromote.remove(node);
    List<Outbound> mine = held.stream().filter(o -> ((Outbound.ApplyToNode) o).nodeId().equals(node)).toList();
    held.removeAll(mine);
    mine.forEach(o -> apply((Outbound.ApplyToNode) o));
    drain();
  }

  static boolean optimized(DesiredState d) {
    return d.ports().stream().anyMatch(p -> p.anaGroups().containsValue(DesiredState.AnaState.OPTIMIZED));
  }

  private PhysicalDisk.Granted grant(String diskId, String tag, long length) {
    long offset = nextOffset.merge(diskId, length, Long::sum) - length;
    return new PhysicalDisk.Granted(diskId, new Extent(volumeId, tag, offset, length));
  }

  NodeFacts node(String nodeId) {
    return nodes.stream().filter(n -> n.nodeId().equals(nodeId)).findFirst().orElseThrow();
  }

  void advance(java.time.Duration d) {
    now += d.toMillis();
    feed(new VolumeInput.Tick());
  }

  /** The controller reports its leg raid status. */
  void raid(String node, int leg, String health, int percent) {
    String dm = VolumeNames.legDm(volumeId, leg);
    raid.put(dm, new VolumeViews.RaidHealth(health, percent, 100));
    feed(new VolumeInput.RaidStatus(node, dm, health, percent, 100));
  }

  /**
   * A record without what a shell may know and not persist (VolumeRecord.NotPersisted): a create
   * still waiting for its first candidates, the acknowledged revisions, a placement round's answers.
   */
  static VolumeRecord withoutMemory(VolumeRecord r) {
    if (r.phase() == VolumeRecord.Phase.PLACING && r.placing().map(p -> p.attempt() == 0).orElse(false)) {
      return VolumeRecord.absent(); // a create that waits for its first candidates wrote nothing yet
    }
    return new VolumeRecord(r.phase(), r.spec(), r.namespaceUuid(), r.epoch(), r.placement(), r.attachments(),
        r.revision(), r.desiredRevisions(), Map.of(), r.touchedDisks(), r.touchedNodes(), r.lostDisks(),
        r.removedNodes(), r.growingToBytes(), r.placing().map(p -> new VolumeRecord.PlacementRound(p.attempt(),
            p.expected(), p.controllerOrder(), p.addresses(), Map.of(), Map.of(), List.of(), Set.of(), Set.of(),
            List.of())), r.growRound(), r.releasesConfirmed(), r.healing(), r.draining(), r.suspects());
  }

  /** The manager restarts: the entity recovers from its journal and forgets what it did not persist. */
  void restart() {
    record = replayed();
    persisted = record;
  }

  /** Replay the journal from scratch: the state a restarted entity recovers. */
  VolumeRecord replayed() {
    VolumeRecord r = VolumeRecord.absent();
    for (VolumeRecord.Event e : journal) {
      r = r.apply(e);
    }
    return r;
  }

  String active() {
    return VolumeHealer.activeController(record);
  }
}
