package io.toma.bench.placement;

import io.toma.disk.Extent;
import io.toma.disk.ExtentAllocator;
import io.toma.healing.Refs;
import io.toma.healing.RepairScheduler;
import io.toma.placement.DiskPlacer;
import io.toma.placement.MemberSlot;
import io.toma.placement.PlacementOutcome;
import io.toma.placement.PlacementRequest;
import io.toma.topology.DiskFacts;
import io.toma.topology.FailureDomainLevel;
import io.toma.topology.ReplicaPlacement;
import io.toma.volume.VolumeGeometry;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

/**
 * Disks, their extents and volumes in memory, driven the way the entities drive them: the real
 * {@link DiskPlacer} chooses on a capacity view, each disk's real {@link ExtentAllocator} grants
 * (first fit) or refuses, and a refusal excludes the disk for the next attempt. No actors: this is
 * the decision path alone, so it measures placement, not messaging.
 */
public final class StorageSim {

  public record Disk(String diskId, String nodeId, String rack, String zone, long sizeBytes) {}

  public record Member(int leg, int replica, String diskId, Extent extent) {}

  public record Volume(String id, int legs, int replicas, FailureDomainLevel level, long extentBytes, List<Member> members) {
    public Volume {
      members = List.copyOf(members);
    }
  }

  /** One replacement placed (or refused) after a loss. */
  public record Replacement(String volumeId, MemberSlot slot, long bytes, Optional<String> diskId, String refusal) {}

  private final DiskPlacer placer;
  private final Map<String, Disk> disks = new LinkedHashMap<>();
  private final Map<String, Integer> index = new HashMap<>();
  private final List<DiskFacts> view = new ArrayList<>();
  private final Map<String, ExtentAllocator> allocators = new HashMap<>();
  private final Map<String, Volume> volumes = new LinkedHashMap<>();
  private final Set<String> lost = new HashSet<>();
  private final Map<String, Long> repairBytes;

  public StorageSim(DiskPlacer placer) {
    this(placer, new HashMap<>());
  }

  /** {@code repairBytes} is filled with the bytes each disk received in replacements (a scorer may read it). */
  public StorageSim(DiskPlacer placer, Map<String, Long> repairBytes) {
    this.placer = placer;
    this.repairBytes = repairBytes;
  }

  public void addDisk(Disk disk) {
    disks.put(disk.diskId(), disk);
    index.put(disk.diskId(), view.size());
    allocators.put(disk.diskId(), ExtentAllocator.empty(disk.sizeBytes()));
    view.add(facts(disk));
  }

  public Collection<Disk> disks() {
    return disks.values();
  }

  public Collection<Volume> volumes() {
    return volumes.values();
  }

  public ExtentAllocator allocator(String diskId) {
    return allocators.get(diskId);
  }

  public boolean isLost(String diskId) {
    return lost.contains(diskId);
  }

  public long totalBytes() {
    return disks.values().stream().mapToLong(Disk::sizeBytes).sum();
  }

  public long usedBytes() {
    return view.stream().mapToLong(d -> d.sizeBytes() - d.freeBytes()).sum();
  }

  public String domainOf(String diskId, FailureDomainLevel level) {
    Disk d = disks.get(diskId);
    return level.domainOf(d.nodeId(), d.rack(), d.zone());
  }

  /** Creates a volume as VirtualDisk does (up to 3 placement attempts); empty when refused. */
  public Optional<Volume> create(String id, long sizeBytes, int legs, int replicas, FailureDomainLevel level) {
    long extentBytes = VolumeGeometry.of(sizeBytes, legs).extentBytes();
    Set<String> excluded = new HashSet<>();
    for (int attempt = 0; attempt < 3; attempt++) {
      PlacementOutcome outcome = placer.place(
          PlacementRequest.forNewVolume(id, legs, replicas, extentBytes, level, excluded), view, Set.of());
      if (!(outcome instanceof PlacementOutcome.Chosen chosen)) {
        return Optional.empty();
      }
      List<Member> members = new ArrayList<>();
      Optional<String> refusedBy = Optional.empty();
      for (PlacementOutcome.ChosenMember m : chosen.members()) {
        Optional<Member> granted = grant(id, m.slot(), tag(m.slot()), m.disk().diskId(), extentBytes);
        if (granted.isEmpty()) {
          refusedBy = Optional.of(m.disk().diskId());
          break;
        }
        members.add(granted.get());
      }
      if (refusedBy.isEmpty()) {
        Volume v = new Volume(id, legs, replicas, level, extentBytes, members);
        volumes.put(id, v);
        return Optional.of(v);
      }
      excluded.add(refusedBy.get());
      for (Member m : members) {
        release(m.diskId(), id);
      }
    }
    return Optional.empty();
  }

  /**
   * Marks the disks lost and re-places every member they held, one request per member as a
   * rebuild does: a domain the leg's survivors do not use, the lost disks excluded, the spare
   * reserve allowed. Each replacement is granted by the disk's allocator before the next one is
   * placed, so later choices see earlier ones.
   */
  public List<Replacement> loseAndReplace(Set<String> lostDisks) {
    return loseAndReplace(lostDisks, false);
  }

  /**
   * As {@link #loseAndReplace(Set)}; with {@code largestFirst} the volumes are repaired in order of
   * decreasing member size (the rest of the order is the volumes' creation order).
   */
  public List<Replacement> loseAndReplace(Set<String> lostDisks, boolean largestFirst) {
    lost.addAll(lostDisks);
    for (String d : lostDisks) {
      view.set(index.get(d), facts(disks.get(d)));
    }
    List<Replacement> replacements = new ArrayList<>();
    List<Volume> order = new ArrayList<>(volumes.values());
    if (largestFirst) {
      order.sort(java.util.Comparator.comparingLong(Volume::extentBytes).reversed());
    }
    for (Volume v : order) {
      List<Member> members = new ArrayList<>(v.members());
      boolean changed = false;
      for (Member m : v.members()) {
        if (!lostDisks.contains(m.diskId())) {
          continue;
        }
        Set<String> legDomains = new HashSet<>();
        for (Member o : members) {
          if (o.leg() == m.leg() && !lost.contains(o.diskId())) {
            legDomains.add(domainOf(o.diskId(), v.level()));
          }
        }
        MemberSlot slot = new MemberSlot(m.leg(), m.replica());
        PlacementRequest request = new PlacementRequest(v.id(), List.of(slot), v.extentBytes(), v.replicas(),
            v.level(), Map.of(m.leg(), legDomains), lost, true);
        PlacementOutcome outcome = placer.place(request, view, Set.of());
        if (outcome instanceof PlacementOutcome.Chosen chosen) {
          String target = chosen.members().get(0).disk().diskId();
          // A replacement is a new member of the same slot: its tag tells it apart from the lost one.
          Optional<Member> granted = grant(v.id(), slot, tag(slot) + "-rebuild", target, v.extentBytes());
          if (granted.isPresent()) {
            members.remove(m);
            members.add(granted.get());
            repairBytes.merge(target, v.extentBytes(), Long::sum);
            changed = true;
            replacements.add(new Replacement(v.id(), slot, v.extentBytes(), Optional.of(target), ""));
          } else {
            replacements.add(new Replacement(v.id(), slot, v.extentBytes(), Optional.empty(), target + " refused the grant"));
          }
        } else {
          replacements.add(new Replacement(v.id(), slot, v.extentBytes(), Optional.empty(),
              ((PlacementOutcome.Refused) outcome).message()));
        }
      }
      if (changed) {
        volumes.put(v.id(), new Volume(v.id(), v.legs(), v.replicas(), v.level(), v.extentBytes(), members));
      }
    }
    return replacements;
  }

  /**
   * The production re-protection path: every lost member becomes a pending repair, they start in
   * {@link RepairScheduler#URGENCY} order (least redundancy, then largest member first), and each
   * is placed by {@link DiskPlacer#forReprotection} on the repair bytes the disks publish, granted,
   * and seen by the next placement.
   */
  public List<Replacement> loseAndReprotect(Set<String> lostDisks, double reserveFraction) {
    lost.addAll(lostDisks);
    for (String d : lostDisks) {
      view.set(index.get(d), facts(disks.get(d)));
    }
    List<RepairScheduler.PendingRepair> pending = new ArrayList<>();
    for (Volume v : volumes.values()) {
      for (Member m : v.members()) {
        if (!lostDisks.contains(m.diskId())) {
          continue;
        }
        List<Refs.DiskRef> survivors = v.members().stream()
            .filter(o -> o.leg() == m.leg() && !lost.contains(o.diskId()))
            .map(o -> new Refs.DiskRef(disks.get(o.diskId()).nodeId(), o.diskId())).toList();
        pending.add(new RepairScheduler.PendingRepair(new Refs.LegRef(v.id(), m.leg()), m.replica(), v.replicas(),
            survivors.size(), survivors, v.extentBytes()));
      }
    }
    pending.sort(RepairScheduler.URGENCY);
    List<Replacement> replacements = new ArrayList<>();
    for (RepairScheduler.PendingRepair p : pending) {
      Volume v = volumes.get(p.leg().volume());
      MemberSlot slot = new MemberSlot(p.leg().leg(), p.slot());
      Member m = v.members().stream().filter(o -> o.leg() == slot.leg() && o.replica() == slot.replica())
          .findFirst().orElseThrow();
      Set<String> legDomains = new HashSet<>();
      for (Member o : v.members()) {
        if (o.leg() == m.leg() && !lost.contains(o.diskId())) {
          legDomains.add(domainOf(o.diskId(), v.level()));
        }
      }
      Map<String, Long> published = new HashMap<>();
      view.forEach(d -> published.put(d.diskId(), d.repairBytes()));
      PlacementRequest request = new PlacementRequest(v.id(), List.of(slot), v.extentBytes(), v.replicas(),
          v.level(), Map.of(m.leg(), legDomains), lost, true);
      PlacementOutcome outcome = DiskPlacer.forReprotection(reserveFraction, published).place(request, view, Set.of());
      if (outcome instanceof PlacementOutcome.Chosen chosen) {
        String target = chosen.members().get(0).disk().diskId();
        Optional<Member> granted = grant(v.id(), slot, tag(slot) + "g1", target, v.extentBytes());
        if (granted.isPresent()) {
          List<Member> members = new ArrayList<>(v.members());
          members.remove(m);
          members.add(granted.get());
          volumes.put(v.id(), new Volume(v.id(), v.legs(), v.replicas(), v.level(), v.extentBytes(), members));
          repairBytes.merge(target, v.extentBytes(), Long::sum);
          replacements.add(new Replacement(v.id(), slot, v.extentBytes(), Optional.of(target), ""));
        } else {
          replacements.add(new Replacement(v.id(), slot, v.extentBytes(), Optional.empty(), target + " refused the grant"));
        }
      } else {
        replacements.add(new Replacement(v.id(), slot, v.extentBytes(), Optional.empty(),
            ((PlacementOutcome.Refused) outcome).message()));
      }
    }
    return replacements;
  }

  /**
   * The surviving disks that anti-affinity lets take at least one of the replacements of a loss
   * of {@code lostDisks} (computed before the loss is applied; capacity is not considered).
   */
  public Set<String> eligibleFor(Set<String> lostDisks) {
    Set<String> eligible = new HashSet<>();
    for (Volume v : volumes.values()) {
      for (Member m : v.members()) {
        if (!lostDisks.contains(m.diskId())) {
          continue;
        }
        Set<String> legDomains = new HashSet<>();
        for (Member o : v.members()) {
          if (o.leg() == m.leg() && !lostDisks.contains(o.diskId()) && !lost.contains(o.diskId())) {
            legDomains.add(domainOf(o.diskId(), v.level()));
          }
        }
        for (Disk d : disks.values()) {
          if (!lostDisks.contains(d.diskId()) && !lost.contains(d.diskId())
              && !legDomains.contains(domainOf(d.diskId(), v.level()))) {
            eligible.add(d.diskId());
          }
        }
      }
    }
    return eligible;
  }

  private Optional<Member> grant(String volumeId, MemberSlot slot, String tag, String diskId, long bytes) {
    ExtentAllocator allocator = allocators.get(diskId);
    Optional<Extent> fit = allocator.firstFit(volumeId, tag, bytes);
    if (fit.isEmpty() || lost.contains(diskId)) {
      return Optional.empty();
    }
    allocators.put(diskId, allocator.with(fit.get()));
    view.set(index.get(diskId), facts(disks.get(diskId)));
    return Optional.of(new Member(slot.leg(), slot.replica(), diskId, fit.get()));
  }

  private void release(String diskId, String volumeId) {
    allocators.put(diskId, allocators.get(diskId).without(volumeId, Set.of()));
    view.set(index.get(diskId), facts(disks.get(diskId)));
  }

  /** As PhysicalDisk publishes it, repair bytes included (extents whose tag names a replacement). */
  private DiskFacts facts(Disk d) {
    ExtentAllocator a = allocators.get(d.diskId());
    long repair = a.extents().stream().filter(e -> ReplicaPlacement.isReplacementTag(e.tag()))
        .mapToLong(Extent::lengthBytes).sum();
    return new DiskFacts(d.diskId(), d.nodeId(), d.zone(), d.rack(), d.sizeBytes(), a.freeBytes(),
        !lost.contains(d.diskId()), repair);
  }

  private static String tag(MemberSlot slot) {
    return "l" + slot.leg() + "r" + slot.replica();
  }
}
