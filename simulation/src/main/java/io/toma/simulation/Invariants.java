package io.toma.simulation;

import io.toma.disk.Extent;
import io.toma.kernel.DesiredState;
import io.toma.kernel.DesiredState.AnaState;
import io.toma.kernel.KernelState;
import io.toma.kernel.Names;
import io.toma.topology.ReplicaPlacement;
import io.toma.volume.VolumeNames;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeSet;

/**
 * The checkers that read the world itself (the kernels of every live node) against what the
 * manager believes. Data invariants live with the hosts ({@link HostDriver}), which hold the model
 * of acknowledged writes.
 */
final class Invariants {
  private Invariants() {}

  /** A finding: which invariant, about what (for de-duplication), and what was seen. */
  record Finding(Violation.Invariant invariant, String subject, String detail) {}

  /**
   * Never two unfenced controllers accepting writes for one volume: a controller accepts writes
   * when its export of the volume is ANA optimized over the real stack (not the standby's error
   * device) and at least one live disk node still allows its host NQN on a member of the volume.
   */
  static List<Finding> twoWriters(Map<String, ManagerShell.VolumeView> volumes, Map<String, KernelState> kernels) {
    List<Finding> out = new ArrayList<>();
    for (String volume : volumes.keySet()) {
      String nqn = VolumeNames.volumeNqn(volume);
      List<String> writers = new ArrayList<>();
      for (Map.Entry<String, KernelState> e : kernels.entrySet()) {
        if (acceptsWrites(volume, nqn, e.getKey(), e.getValue(), kernels)) {
          writers.add(e.getKey());
        }
      }
      if (writers.size() >= 2) {
        out.add(new Finding(Violation.Invariant.TWO_WRITERS, volume,
            "volume " + volume + " has " + writers.size() + " unfenced controllers accepting writes: " + writers));
      }
    }
    return out;
  }

  private static boolean acceptsWrites(String volume, String nqn, String node, KernelState k, Map<String, KernelState> kernels) {
    KernelState.SubsystemState sub = k.subsystems().get(nqn);
    if (sub == null) {
      return false;
    }
    KernelState.NamespaceState ns = sub.namespaces().get(1);
    KernelState.DmDeviceState top = k.dmDevices().get(VolumeNames.volumeDm(volume));
    if (ns == null || !ns.enabled() || top == null || top.table().isEmpty()
        || top.table().get(0).target().equals("error")) {
      return false;
    }
    boolean optimized = k.ports().values().stream().anyMatch(p -> p.subsystems().contains(nqn)
        && p.anaGroups().get(ns.anaGroupId()) == AnaState.OPTIMIZED);
    if (!optimized) {
      return false;
    }
    String hostNqn = DeciderManager.hostNqnOf(node);
    for (KernelState disk : kernels.values()) {
      for (KernelState.SubsystemState member : disk.subsystems().values()) {
        if (member.nqn().startsWith(nqn + ".") && member.allowedHosts().contains(hostNqn)) {
          return true;
        }
      }
    }
    return false;
  }

  /**
   * No extent owned twice: no two members of any placements overlap on a disk, and every slice a
   * live node's kernel holds on a live disk lies inside an extent its allocator grants to that
   * very member (a slice over free or foreign space means the extent was released or granted
   * while a node still used it).
   */
  static List<Finding> extentsOwnedOnce(ClusterShape shape, Map<String, ManagerShell.VolumeView> volumes,
      Map<String, ManagerShell.DiskView> disks, Map<String, KernelState> kernels, Set<String> deadDisks) {
    List<Finding> out = new ArrayList<>();
    List<String[]> owners = new ArrayList<>();
    List<ReplicaPlacement> members = new ArrayList<>();
    for (ManagerShell.VolumeView v : volumes.values()) {
      for (ReplicaPlacement m : v.members()) {
        for (int i = 0; i < members.size(); i++) {
          ReplicaPlacement o = members.get(i);
          if (o.diskId().equals(m.diskId()) && o.offsetBytes() < m.offsetBytes() + m.lengthBytes()
              && m.offsetBytes() < o.offsetBytes() + o.lengthBytes()) {
            out.add(new Finding(Violation.Invariant.EXTENT_OWNED_TWICE, m.diskId() + "@" + m.offsetBytes(),
                "placements overlap on " + m.diskId() + ": " + owners.get(i)[0] + "/" + o.tag() + " and "
                    + v.volume() + "/" + m.tag()));
          }
        }
        members.add(m);
        owners.add(new String[] {v.volume()});
      }
    }
    for (Map.Entry<String, KernelState> e : kernels.entrySet()) {
      String node = e.getKey();
      for (KernelState.DmDeviceState dm : e.getValue().dmDevices().values()) {
        if (!dm.name().startsWith(Names.PREFIX) || dm.table().size() != 1
            || !dm.table().get(0).target().equals("linear")) {
          continue;
        }
        String[] args = dm.table().get(0).args().trim().split("\\s+");
        if (args.length != 2 || !args[0].startsWith("251:")) {
          continue;
        }
        int index = Integer.parseInt(args[0].substring(4));
        Optional<ClusterShape.DiskSpec> disk = shape.disks().stream()
            .filter(d -> d.node().equals(node) && d.index() == index).findFirst();
        if (disk.isEmpty() || deadDisks.contains(disk.get().id())) {
          continue;
        }
        long offset = Long.parseLong(args[1]) * 512;
        long length = dm.table().get(0).length() * 512;
        String owner = dm.name().substring(Names.PREFIX.length());
        int dash = owner.lastIndexOf('-');
        String volume = owner.substring(0, dash);
        String tag = owner.substring(dash + 1);
        List<Extent> extents = disks.get(disk.get().id()).allocator().extents();
        boolean owned = extents.stream().anyMatch(x -> x.volumeId().equals(volume) && x.tag().equals(tag)
            && x.offsetBytes() <= offset && offset + length <= x.endBytes());
        if (!owned) {
          String holder = extents.stream().filter(x -> x.offsetBytes() < offset + length && offset < x.endBytes())
              .map(x -> "granted to " + x.volumeId() + "/" + x.tag()).findFirst().orElse("free in the allocator");
          out.add(new Finding(Violation.Invariant.EXTENT_OWNED_TWICE, node + "/" + dm.name(),
              "node " + node + " still holds slice " + dm.name() + " over " + disk.get().id() + " [" + offset
                  + ", +" + length + ") which is " + holder));
        }
      }
    }
    return out;
  }

  /** After convergence: every Toma dm device and subsystem on a live node is explained by a desired state. */
  static List<Finding> orphans(Map<String, ManagerShell.VolumeView> volumes, Map<String, KernelState> kernels) {
    List<Finding> out = new ArrayList<>();
    for (Map.Entry<String, KernelState> e : kernels.entrySet()) {
      Set<String> dm = new TreeSet<>();
      Set<String> nqns = new TreeSet<>();
      for (ManagerShell.VolumeView v : volumes.values()) {
        DesiredState d = v.desired().get(e.getKey());
        if (d != null) {
          d.dmDevices().forEach(x -> dm.add(x.name()));
          d.subsystems().forEach(x -> nqns.add(x.nqn()));
        }
      }
      for (String name : e.getValue().dmDevices().keySet()) {
        if (name.startsWith(Names.PREFIX) && !dm.contains(name)) {
          out.add(new Finding(Violation.Invariant.ORPHANED_KERNEL_OBJECT, e.getKey() + "/" + name,
              "node " + e.getKey() + " still holds dm device " + name));
        }
      }
      for (String nqn : e.getValue().subsystems().keySet()) {
        if (nqn.startsWith(Names.NQN_PREFIX) && !nqns.contains(nqn)) {
          out.add(new Finding(Violation.Invariant.ORPHANED_KERNEL_OBJECT, e.getKey() + "/" + nqn,
              "node " + e.getKey() + " still exports subsystem " + nqn));
        }
      }
    }
    return out;
  }
}
