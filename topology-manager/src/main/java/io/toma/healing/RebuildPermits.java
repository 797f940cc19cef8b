package io.toma.healing;

import io.toma.healing.RepairScheduler.PendingRepair;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.SortedMap;
import java.util.TreeMap;

/**
 * The cluster-wide admission of rebuilds: every volume asks here before its rebuild starts to
 * copy, so that across <em>all</em> volumes no disk carries more than
 * {@code max-rebuilds-per-disk} rebuilds and no node more than {@code max-rebuilds-per-node}, and
 * waiting rebuilds start least redundancy first ({@link RepairScheduler#URGENCY}).
 *
 * <p>Permits are leases: a volume renews those it still needs on every tick, and a permit (or a
 * place in the queue) not renewed within the lease is forgotten. So a permit held by a repair that
 * finished, a volume that was deleted or a manager that crashed frees itself, and a repair that
 * resumes after a restart takes its permit again ({@link #renew}: a rebuild already copying is
 * counted at once, since it loads its disks whether admitted or not). Pure; time is an argument.
 *
 * @param caps the per-disk and per-node caps
 * @param granted rebuilds admitted, by key
 * @param waiting rebuilds queued, by key
 */
public record RebuildPermits(Caps caps, SortedMap<Key, Lease> granted, SortedMap<Key, Lease> waiting) {

  public RebuildPermits {
    granted = java.util.Collections.unmodifiableSortedMap(new TreeMap<>(granted));
    waiting = java.util.Collections.unmodifiableSortedMap(new TreeMap<>(waiting));
  }

  /** One rebuild: the volume and the tag of the member it replaces. */
  public record Key(String volume, String lostTag) implements Comparable<Key> {
    @Override
    public int compareTo(Key o) {
      int c = volume.compareTo(o.volume);
      return c != 0 ? c : lostTag.compareTo(o.lostTag);
    }
  }

  /** What the rebuild loads (and its urgency), and until when the lease holds without renewal. */
  public record Lease(PendingRepair repair, long expiresAtMillis) {}

  /** The result of a change: the new table and the rebuilds admitted by it (to be told). */
  public record Step(RebuildPermits permits, List<Key> admitted) {
    public Step {
      admitted = List.copyOf(admitted);
    }
  }

  public static RebuildPermits empty(Caps caps) {
    return new RebuildPermits(caps, new TreeMap<>(), new TreeMap<>());
  }

  /** The load of the admitted rebuilds, per disk and per node. */
  public RepairScheduler.Load load() {
    return RepairScheduler.Load.of(granted.values().stream().map(l -> l.repair().touches()).toList());
  }

  /**
   * A rebuild asks to start. Admitted at once when the caps allow and nothing more urgent waits for
   * the same disks; queued otherwise. Asking again for a rebuild already admitted on the same disks
   * admits it again (the answer was lost) and renews it; asking with other disks (a new target after
   * a refused grant) queues it again, so the new disks are checked against the caps too.
   */
  public Step request(Key key, PendingRepair repair, long now, long leaseMillis) {
    TreeMap<Key, Lease> g = new TreeMap<>(granted);
    TreeMap<Key, Lease> w = new TreeMap<>(waiting);
    Lease held = g.get(key);
    if (held != null && sameDisks(held.repair(), repair)) {
      g.put(key, new Lease(held.repair(), now + leaseMillis));
      return new Step(new RebuildPermits(caps, g, w), List.of(key));
    }
    g.remove(key);
    w.put(key, new Lease(repair, now + leaseMillis));
    return new RebuildPermits(caps, g, w).admit(now);
  }

  /**
   * A volume says which of its rebuilds still need a permit: {@code copying} are past admission
   * (their extent granted, attached or syncing), {@code asking} wait for one. Each is renewed;
   * a copying rebuild the table does not know (a restart lost it) is counted again at once, on the
   * disks it loads now; an asking one is queued again, and so is an admitted one that now asks for
   * other disks. Every other permit or place of that volume is released.
   */
  public Step renew(String volume, Map<String, PendingRepair> copying, Map<String, PendingRepair> asking,
      long now, long leaseMillis) {
    TreeMap<Key, Lease> g = new TreeMap<>(granted);
    TreeMap<Key, Lease> w = new TreeMap<>(waiting);
    g.keySet().removeIf(k -> k.volume().equals(volume) && !copying.containsKey(k.lostTag())
        && !asking.containsKey(k.lostTag()));
    w.keySet().removeIf(k -> k.volume().equals(volume) && !asking.containsKey(k.lostTag()));
    copying.forEach((tag, repair) -> {
      Key k = new Key(volume, tag);
      w.remove(k);
      g.put(k, new Lease(repair, now + leaseMillis));
    });
    asking.forEach((tag, repair) -> {
      Key k = new Key(volume, tag);
      if (g.containsKey(k) && sameDisks(g.get(k).repair(), repair)) {
        g.put(k, new Lease(g.get(k).repair(), now + leaseMillis));
      } else {
        g.remove(k);
        w.put(k, new Lease(repair, now + leaseMillis));
      }
    });
    return new RebuildPermits(caps, g, w).admit(now);
  }

  private static boolean sameDisks(PendingRepair a, PendingRepair b) {
    return Set.copyOf(a.touches()).equals(Set.copyOf(b.touches()));
  }

  /** The rebuild finished or gave up: its permit frees the disks for the next. */
  public Step release(Key key, long now) {
    TreeMap<Key, Lease> g = new TreeMap<>(granted);
    TreeMap<Key, Lease> w = new TreeMap<>(waiting);
    g.remove(key);
    w.remove(key);
    return new RebuildPermits(caps, g, w).admit(now);
  }

  /** Forget every lease past its time (its holder stopped renewing), then admit what fits. */
  public Step expire(long now) {
    TreeMap<Key, Lease> g = new TreeMap<>(granted);
    TreeMap<Key, Lease> w = new TreeMap<>(waiting);
    g.values().removeIf(l -> l.expiresAtMillis() <= now);
    w.values().removeIf(l -> l.expiresAtMillis() <= now);
    return new RebuildPermits(caps, g, w).admit(now);
  }

  /**
   * Admit waiting rebuilds in order of urgency under the caps. Unlike the per-volume pass this one
   * is not work-conserving across disks: a rebuild waits while a more urgent one waits for any of
   * its disks, or a stream of less urgent rebuilds could keep the urgent one out for good.
   */
  private Step admit(long now) {
    TreeMap<Key, Lease> g = new TreeMap<>(granted);
    TreeMap<Key, Lease> w = new TreeMap<>(waiting);
    List<Key> admitted = new ArrayList<>();
    RepairScheduler.Load load = load();
    Map<Refs.DiskRef, Integer> disks = new java.util.HashMap<>(load.perDisk());
    Map<String, Integer> nodes = new java.util.HashMap<>(load.perNode());
    Set<Refs.DiskRef> blockedDisks = new java.util.HashSet<>();
    List<Map.Entry<Key, Lease>> queue = new ArrayList<>(w.entrySet());
    queue.sort(Map.Entry.comparingByValue((a, b) -> RepairScheduler.URGENCY.compare(a.repair(), b.repair())));
    for (Map.Entry<Key, Lease> e : queue) {
      Collection<Refs.DiskRef> touches = e.getValue().repair().touches();
      boolean fits = touches.stream().noneMatch(blockedDisks::contains)
          && touches.stream().allMatch(d -> disks.getOrDefault(d, 0) < caps.perDisk())
          && touches.stream().map(Refs.DiskRef::node).distinct()
              .allMatch(n -> nodes.getOrDefault(n, 0) < caps.perNode());
      if (fits) {
        for (Refs.DiskRef d : Set.copyOf(touches)) {
          disks.merge(d, 1, Integer::sum);
        }
        touches.stream().map(Refs.DiskRef::node).distinct().forEach(n -> nodes.merge(n, 1, Integer::sum));
        g.put(e.getKey(), e.getValue());
        w.remove(e.getKey());
        admitted.add(e.getKey());
      } else {
        blockedDisks.addAll(touches);
      }
    }
    return new Step(new RebuildPermits(caps, g, w), admitted);
  }

  /** The two caps, from {@link HealingSettings}. */
  public record Caps(int perDisk, int perNode) {
    public static Caps of(HealingSettings settings) {
      return new Caps(settings.maxRebuildsPerDisk(), settings.maxRebuildsPerNode());
    }
  }
}
