package io.toma.placement;

import io.toma.disk.Extent;
import io.toma.disk.ExtentAllocator;
import io.toma.healing.Refs;
import io.toma.healing.RepairScheduler;
import io.toma.topology.DiskFacts;
import io.toma.topology.FailureDomainLevel;
import io.toma.topology.ReplicaPlacement;
import io.toma.topology.VolumeSpec;
import io.toma.volume.VolumeGeometry;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Random;
import java.util.Set;
import java.util.TreeMap;

/**
 * A cluster in memory for property tests: the pure placement pipeline and one ExtentAllocator per
 * disk, wired as the entities wire them (place on the capacity view, then each disk grants or
 * refuses; on a refusal, exclude the disk and place again).
 */
final class SimulatedCluster {

  record DiskSite(String diskId, String nodeId, String rack, String zone, long sizeBytes) {}

  record Member(int leg, int replica, String diskId, Extent extent) {}

  record Volume(String id, int legs, int replicas, FailureDomainLevel level, long extentBytes, List<Member> members) {}

  final Map<String, DiskSite> sites = new LinkedHashMap<>();
  final Map<String, ExtentAllocator> allocators = new TreeMap<>();
  final Map<String, Volume> volumes = new LinkedHashMap<>();
  /** Free bytes per disk, forgotten whenever the disk's allocator changes (the view is read often). */
  private final Map<String, Long> free = new HashMap<>();
  /** Replacement bytes per disk, as PhysicalDisk publishes them; forgotten with {@link #free}. */
  private final Map<String, Long> repair = new HashMap<>();
  final Set<String> lost = new HashSet<>();
  final DiskPlacer placer;
  int refusals = 0;

  SimulatedCluster(DiskPlacer placer) {
    this.placer = placer;
  }

  static final long[] SIZES = {VolumeSpec.TIB, 2 * VolumeSpec.TIB, 4 * VolumeSpec.TIB};

  /** zones x racks x nodes x disks with sizes drawn from 1, 2 and 4 TiB. */
  static SimulatedCluster random(Random random, DiskPlacer placer, int zones, int racksPerZone, int nodesPerRack,
      int maxDisksPerNode) {
    SimulatedCluster c = new SimulatedCluster(placer);
    for (int z = 0; z < zones; z++) {
      for (int r = 0; r < racksPerZone; r++) {
        for (int n = 0; n < nodesPerRack; n++) {
          String node = "z" + z + "r" + r + "n" + n;
          int disks = 1 + random.nextInt(maxDisksPerNode);
          for (int d = 0; d < disks; d++) {
            c.addDisk(new DiskSite(node + "d" + d, node, "r" + r, "z" + z, SIZES[random.nextInt(SIZES.length)]));
          }
        }
      }
    }
    return c;
  }

  void addDisk(DiskSite site) {
    sites.put(site.diskId(), site);
    allocators.put(site.diskId(), ExtentAllocator.empty(site.sizeBytes()));
  }

  List<DiskFacts> capacityView() {
    List<DiskFacts> view = new ArrayList<>();
    sites.values().forEach(s -> view.add(new DiskFacts(s.diskId(), s.nodeId(), s.zone(), s.rack(), s.sizeBytes(),
        free.computeIfAbsent(s.diskId(), d -> allocators.get(d).freeBytes()), !lost.contains(s.diskId()),
        repair.computeIfAbsent(s.diskId(), d -> allocators.get(d).extents().stream()
            .filter(e -> ReplicaPlacement.isReplacementTag(e.tag())).mapToLong(Extent::lengthBytes).sum()))));
    return view;
  }

  /** Bytes not free over all disks (from the cached view, so cheap to ask after every step). */
  long usedBytes() {
    return capacityView().stream().mapToLong(d -> d.sizeBytes() - d.freeBytes()).sum();
  }

  /** Create a volume; empty when placement is impossible. */
  Optional<Volume> create(String id, long sizeBytes, int legs, int replicas, FailureDomainLevel level) {
    VolumeGeometry g = VolumeGeometry.of(sizeBytes, legs);
    Set<String> excluded = new HashSet<>();
    for (int attempt = 0; attempt < 3; attempt++) {
      PlacementOutcome outcome = placer.place(
          PlacementRequest.forNewVolume(id, legs, replicas, g.extentBytes(), level, excluded), capacityView(), Set.of());
      if (outcome instanceof PlacementOutcome.Refused) {
        return Optional.empty();
      }
      List<Member> members = new ArrayList<>();
      boolean refused = false;
      for (PlacementOutcome.ChosenMember m : ((PlacementOutcome.Chosen) outcome).members()) {
        Optional<Member> granted = grant(id, m.slot(), m.disk().diskId(), g.extentBytes());
        if (granted.isEmpty()) {
          refused = true;
          excluded.add(m.disk().diskId());
          break;
        }
        members.add(granted.get());
      }
      if (!refused) {
        Volume v = new Volume(id, legs, replicas, level, g.extentBytes(), members);
        volumes.put(id, v);
        return Optional.of(v);
      }
      refusals++;
      for (String disk : allocators.keySet()) {
        allocators.put(disk, allocators.get(disk).without(id, Set.of()));
      }
      free.clear();
      repair.clear();
    }
    return Optional.empty();
  }

  /** What a PhysicalDisk entity does with a Grant: first fit or refuse. */
  Optional<Member> grant(String volumeId, MemberSlot slot, String diskId, long bytes) {
    return grant(volumeId, slot, "l" + slot.leg() + "r" + slot.replica(), diskId, bytes);
  }

  Optional<Member> grant(String volumeId, MemberSlot slot, String tag, String diskId, long bytes) {
    ExtentAllocator allocator = allocators.get(diskId);
    Optional<Extent> fit = allocator.firstFit(volumeId, tag, bytes);
    if (fit.isEmpty() || lost.contains(diskId)) {
      return Optional.empty();
    }
    allocators.put(diskId, allocator.with(fit.get()));
    free.remove(diskId);
    repair.remove(diskId);
    return Optional.of(new Member(slot.leg(), slot.replica(), diskId, fit.get()));
  }

  void delete(String id) {
    Volume v = volumes.remove(id);
    for (Member m : v.members()) {
      allocators.put(m.diskId(), allocators.get(m.diskId()).without(id, Set.of()));
      free.remove(m.diskId());
      repair.remove(m.diskId());
    }
  }

  String domain(String diskId, FailureDomainLevel level) {
    DiskSite s = sites.get(diskId);
    return level.domainOf(s.nodeId(), s.rack(), s.zone());
  }

  /**
   * Lose a disk and re-protect every member it held: one replacement per member, in a failure
   * domain its leg does not use, allowed into the spare reserve. Returns bytes received per disk.
   */
  /** Disks that could have taken at least one replacement in the last rebuild (anti-affinity allowing). */
  final Set<String> eligibleForRebuild = new HashSet<>();

  Map<String, Long> loseAndRebuild(String diskId) {
    lost.add(diskId);
    eligibleForRebuild.clear();
    Map<String, Long> received = new HashMap<>();
    for (Volume v : List.copyOf(volumes.values())) {
      List<Member> members = new ArrayList<>(v.members());
      for (Member m : v.members()) {
        if (!m.diskId().equals(diskId)) {
          continue;
        }
        Set<String> legDomains = new HashSet<>();
        members.stream().filter(o -> o.leg() == m.leg() && !o.diskId().equals(diskId))
            .forEach(o -> legDomains.add(domain(o.diskId(), v.level())));
        for (DiskSite site : sites.values()) {
          if (!lost.contains(site.diskId()) && !legDomains.contains(domain(site.diskId(), v.level()))) {
            eligibleForRebuild.add(site.diskId());
          }
        }
        PlacementRequest request = new PlacementRequest(v.id(), List.of(new MemberSlot(m.leg(), m.replica())),
            v.extentBytes(), v.replicas(), v.level(), Map.of(m.leg(), legDomains), Set.of(diskId), true);
        PlacementOutcome outcome = placer.place(request, capacityView(), Set.of());
        if (outcome instanceof PlacementOutcome.Chosen chosen) {
          PlacementOutcome.ChosenMember c = chosen.members().get(0);
          // the replacement is a new member of the same slot: tag it apart from the lost one
          Optional<Member> granted = grant(v.id() + "~rebuild", c.slot(), c.disk().diskId(), v.extentBytes());
          if (granted.isPresent()) {
            members.remove(m);
            members.add(new Member(m.leg(), m.replica(), c.disk().diskId(), granted.get().extent()));
            received.merge(c.disk().diskId(), v.extentBytes(), Long::sum);
          }
        }
      }
      volumes.put(v.id(), new Volume(v.id(), v.legs(), v.replicas(), v.level(), v.extentBytes(), members));
    }
    return received;
  }

  /**
   * Lose a disk and re-protect it as the production code does: the lost members ordered by
   * {@link RepairScheduler#URGENCY} (least redundancy, then largest first), each placed with
   * {@link DiskPlacer#forReprotection} on the capacity view's repair bytes, each grant seen by the
   * next placement. Returns bytes received per disk; fills {@link #eligibleForRebuild}.
   */
  Map<String, Long> loseAndReprotect(String diskId, double reserveFraction) {
    lost.add(diskId);
    eligibleForRebuild.clear();
    List<RepairScheduler.PendingRepair> pending = new ArrayList<>();
    for (Volume v : volumes.values()) {
      for (Member m : v.members()) {
        if (!m.diskId().equals(diskId)) {
          continue;
        }
        List<Refs.DiskRef> survivors = v.members().stream()
            .filter(o -> o.leg() == m.leg() && !lost.contains(o.diskId()))
            .map(o -> new Refs.DiskRef(sites.get(o.diskId()).nodeId(), o.diskId())).toList();
        pending.add(new RepairScheduler.PendingRepair(new Refs.LegRef(v.id(), m.leg()), m.replica(), v.replicas(),
            survivors.size(), survivors, v.extentBytes()));
      }
    }
    pending.sort(RepairScheduler.URGENCY);
    Map<String, Long> received = new HashMap<>();
    for (RepairScheduler.PendingRepair p : pending) {
      Volume v = volumes.get(p.leg().volume());
      Member m = v.members().stream().filter(o -> o.leg() == p.leg().leg() && o.replica() == p.slot()).findFirst()
          .orElseThrow();
      Set<String> legDomains = new HashSet<>();
      v.members().stream().filter(o -> o.leg() == m.leg() && !lost.contains(o.diskId()))
          .forEach(o -> legDomains.add(domain(o.diskId(), v.level())));
      for (DiskSite site : sites.values()) {
        if (!lost.contains(site.diskId()) && !legDomains.contains(domain(site.diskId(), v.level()))) {
          eligibleForRebuild.add(site.diskId());
        }
      }
      List<DiskFacts> view = capacityView();
      Map<String, Long> repairBytes = new HashMap<>();
      view.forEach(d -> repairBytes.put(d.diskId(), d.repairBytes()));
      PlacementRequest request = new PlacementRequest(v.id(), List.of(new MemberSlot(m.leg(), m.replica())),
          v.extentBytes(), v.replicas(), v.level(), Map.of(m.leg(), legDomains), Set.copyOf(lost), true);
      PlacementOutcome outcome = DiskPlacer.forReprotection(reserveFraction, repairBytes).place(request, view, Set.of());
      if (outcome instanceof PlacementOutcome.Chosen chosen) {
        String target = chosen.members().get(0).disk().diskId();
        Optional<Member> granted = grant(v.id(), new MemberSlot(m.leg(), m.replica()),
            "l" + m.leg() + "r" + m.replica() + "g1", target, v.extentBytes());
        if (granted.isPresent()) {
          List<Member> members = new ArrayList<>(v.members());
          members.remove(m);
          members.add(granted.get());
          volumes.put(v.id(), new Volume(v.id(), v.legs(), v.replicas(), v.level(), v.extentBytes(), members));
          received.merge(target, v.extentBytes(), Long::sum);
        }
      }
    }
    return received;
  }
}
