package io.toma.healing;

import io.toma.healing.Refs.DiskRef;
import io.toma.healing.Refs.LegRef;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.stream.Collectors;

/**
 * Which pending repairs start now: the least redundancy left first, under a cap on concurrent
 * rebuilds per disk and per node so rebuilds never starve the volumes' own I/O. A whole-rack loss
 * is simply many pending repairs.
 *
 * <p>Order: fewer in-sync members first (a leg with no spare copy before a leg with one), then more
 * members missing, then the largest member first (list scheduling, largest job first: the
 * replacements, each placed on the survivor that received the least so far, then load the
 * survivors evenly; docs/benchmarks.md §3), then volume id, leg and slot, so two runs over the
 * same input start the same repairs. The pass is greedy and work-conserving: a repair blocked by a busy disk does not hold
 * back a less urgent one on idle disks.
 */
public final class RepairScheduler {
  private RepairScheduler() {}

  /**
   * One lost member waiting for its rebuild (a {@link Rebuild} in stage MEMBER_LOST).
   *
   * @param membersWanted the leg's replica count
   * @param membersInSync members of the leg alive and in sync now
   * @param touches the disks the rebuild will load: the in-sync members' disks it copies from,
   *     and its target once placement has chosen one
   * @param bytes the member's size: within one redundancy level the largest start first
   */
  public record PendingRepair(
      LegRef leg, int slot, int membersWanted, int membersInSync, Collection<DiskRef> touches, long bytes) {
    public PendingRepair {
      touches = touches.stream().distinct().sorted(DISK_ORDER).toList();
    }

    /** A repair whose size does not matter to the caller. */
    public PendingRepair(LegRef leg, int slot, int membersWanted, int membersInSync, Collection<DiskRef> touches) {
      this(leg, slot, membersWanted, membersInSync, touches, 0);
    }

    /** Copies beyond the one that keeps the leg readable. */
    public int spareCopies() {
      return membersInSync - 1;
    }
  }

  /** Rebuilds copying right now, by disk and by node. */
  public record Load(Map<DiskRef, Integer> perDisk, Map<String, Integer> perNode) {
    public Load {
      perDisk = Map.copyOf(perDisk);
      perNode = Map.copyOf(perNode);
    }

    public static Load none() {
      return new Load(Map.of(), Map.of());
    }

    /** The load of rebuilds in flight, each given by the disks it touches. */
    public static Load of(Collection<? extends Collection<DiskRef>> inFlight) {
      Map<DiskRef, Integer> disks = new HashMap<>();
      Map<String, Integer> nodes = new HashMap<>();
      for (Collection<DiskRef> touches : inFlight) {
        charge(disks, nodes, touches);
      }
      return new Load(disks, nodes);
    }

    public int onDisk(DiskRef disk) {
      return perDisk.getOrDefault(disk, 0);
    }

    public int onNode(String node) {
      return perNode.getOrDefault(node, 0);
    }
  }

  public record Deferred(PendingRepair repair, String reason) {}

  public record Schedule(List<PendingRepair> start, List<Deferred> deferred) {
    public Schedule {
      start = List.copyOf(start);
      deferred = List.copyOf(deferred);
    }
  }

  static final Comparator<DiskRef> DISK_ORDER =
      Comparator.comparing(DiskRef::node).thenComparing(DiskRef::disk);

  public static final Comparator<PendingRepair> URGENCY =
      Comparator.comparingInt(PendingRepair::membersInSync)
          .thenComparing(Comparator.comparingInt(
              (PendingRepair p) -> p.membersWanted() - p.membersInSync()).reversed())
          .thenComparing(Comparator.comparingLong(PendingRepair::bytes).reversed())
          .thenComparing(p -> p.leg().volume())
          .thenComparingInt(p -> p.leg().leg())
          .thenComparingInt(PendingRepair::slot);

  public static Schedule schedule(
      Collection<PendingRepair> pending, Load inFlight, HealingSettings settings) {
    Map<DiskRef, Integer> disks = new HashMap<>(inFlight.perDisk());
    Map<String, Integer> nodes = new HashMap<>(inFlight.perNode());
    List<PendingRepair> start = new ArrayList<>();
    List<Deferred> deferred = new ArrayList<>();
    for (PendingRepair p : pending.stream().sorted(URGENCY).toList()) {
      if (p.membersInSync() <= 0) {
        deferred.add(new Deferred(p, "no in-sync member left to copy from"));
        continue;
      }
      List<String> busy = new ArrayList<>();
      for (DiskRef d : p.touches()) {
        if (disks.getOrDefault(d, 0) >= settings.maxRebuildsPerDisk()) {
          busy.add("disk " + d.node() + "/" + d.disk());
        }
      }
      for (String n : nodesOf(p.touches())) {
        if (nodes.getOrDefault(n, 0) >= settings.maxRebuildsPerNode()) {
          busy.add("node " + n);
        }
      }
      if (busy.isEmpty()) {
        charge(disks, nodes, p.touches());
        start.add(p);
      } else {
        deferred.add(new Deferred(p, "rebuild cap reached on " + String.join(", ", busy)));
      }
    }
    return new Schedule(start, deferred);
  }

  private static void charge(
      Map<DiskRef, Integer> disks, Map<String, Integer> nodes, Collection<DiskRef> touches) {
    for (DiskRef d : Set.copyOf(touches)) {
      disks.merge(d, 1, Integer::sum);
    }
    for (String n : nodesOf(touches)) {
      nodes.merge(n, 1, Integer::sum);
    }
  }

  private static Set<String> nodesOf(Collection<DiskRef> touches) {
    return touches.stream().map(DiskRef::node).collect(Collectors.toCollection(TreeSet::new));
  }
}
