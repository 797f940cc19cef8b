package io.toma.kernel.fake;

import io.toma.kernel.DesiredState;
import io.toma.kernel.DesiredState.AnaState;
import io.toma.kernel.DesiredState.DmTableLine;
import io.toma.kernel.DeviceRef;
import io.toma.kernel.Kernel;
import io.toma.kernel.KernelException;
import io.toma.kernel.KernelOp;
import io.toma.kernel.KernelState;
import io.toma.kernel.KernelState.ControllerState;
import io.toma.kernel.KernelState.DmDeviceState;
import io.toma.kernel.KernelState.NamespaceState;
import io.toma.kernel.KernelState.PortState;
import io.toma.kernel.KernelState.SubsystemState;
import io.toma.kernel.Validation;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;

/**
 * A test-scope kernel: applies operations to plain maps and refuses what the real kernel refuses
 * (kernel-recipes.md, "Removal order"), with the kernel's words. Tables are kept as the kernel
 * would resolve them (paths, not symbolic refs). Thread-safe: the agent calls it from the blocking
 * dispatcher while tests look at it.
 */
public final class FakeKernel implements Kernel {
  private final Map<String, Dm> dm = new TreeMap<>();
  private final Map<String, Sub> subsystems = new TreeMap<>();
  private final Set<String> hosts = new TreeSet<>();
  private final Map<Integer, Port> ports = new TreeMap<>();
  private final List<ControllerState> controllers = new ArrayList<>();
  private final Map<String, String> disks; // id -> path
  private final Map<String, Long> diskSizes = new TreeMap<>(); // path -> bytes
  private final Set<String> deadDisks = new TreeSet<>();
  /** What remote targets export: subsystem NQN → namespace uuid (one namespace each). */
  private final Map<String, String> remoteNamespaces = new TreeMap<>();
  private final List<KernelOp> log = new ArrayList<>();
  private int nextController;
  private int failAtCall = -1;
  private int calls;

  private static final class Dm {
    List<DmTableLine> table;
    List<DmTableLine> inactive;
    boolean suspended;
    String status = "";

    Dm(List<DmTableLine> table) {
      this.table = table;
    }
  }

  private static final class Sub {
    final Set<String> allowed = new TreeSet<>();
    final Map<Integer, NamespaceState> namespaces = new TreeMap<>();
  }

  private static final class Port {
    final KernelOp.PortCreate def;
    final Map<Integer, AnaState> groups = new TreeMap<>();
    final Set<String> links = new TreeSet<>();

    Port(KernelOp.PortCreate def) {
      this.def = def;
    }
  }

  public FakeKernel(Map<String, String> disks) {
    this.disks = new TreeMap<>(disks);
    disks.values().forEach(p -> diskSizes.put(p, 1L << 40));
  }

  // ---- test controls ----

  public synchronized FakeKernel exporting(String subsystemNqn, String namespaceUuid) {
    remoteNamespaces.put(subsystemNqn, namespaceUuid);
    return this;
  }

  /** The n-th apply call from now (1-based) throws, as a crash in the middle of an apply would. */
  public synchronized void failAtCall(int n) {
    failAtCall = calls + n;
  }

  public synchronized void diskDies(String path) {
    deadDisks.add(path);
  }

  public synchronized void setStatus(String dmName, String status) {
    dm.get(dmName).status = status;
  }

  public synchronized void setControllerState(String nqn, String state) {
    for (int i = 0; i < controllers.size(); i++) {
      ControllerState c = controllers.get(i);
      if (c.subsystemNqn().equals(nqn)) {
        controllers.set(i, new ControllerState(c.device(), c.subsystemNqn(), c.address(), c.serviceId(),
            c.hostNqn(), state, c.namespaceDevicesByUuid()));
      }
    }
  }

  public synchronized List<KernelOp> log() {
    return List.copyOf(log);
  }

  /** Applies without Toma's validation: how foreign (non-Toma) objects get into the kernel. */
  public synchronized void applyForeign(KernelOp op) throws KernelException {
    execute(op);
  }

  // ---- Kernel ----

  @Override
  public synchronized KernelState read() {
    Map<String, DmDeviceState> d = new TreeMap<>();
    dm.forEach((n, x) -> d.put(n, new DmDeviceState(n, x.table, x.suspended, x.status)));
    Map<String, SubsystemState> s = new TreeMap<>();
    subsystems.forEach((n, x) -> s.put(n, new SubsystemState(n, false, x.allowed, x.namespaces)));
    Map<Integer, PortState> p = new TreeMap<>();
    ports.forEach((id, x) -> p.put(id, new PortState(id, x.def.transport(), x.def.addressFamily(),
        x.def.address(), x.def.serviceId(), x.groups, x.links)));
    return new KernelState(d, s, hosts, p, controllers);
  }

  @Override
  public synchronized void apply(KernelOp op) throws KernelException {
    calls++;
    if (calls == failAtCall) {
      throw new KernelException("injected failure at " + op);
    }
    Validation.op(op);
    execute(op);
  }

  @Override
  public synchronized List<BlockDeviceInfo> blockDevices(List<String> devicePaths) {
    List<BlockDeviceInfo> out = new ArrayList<>();
    for (String path : devicePaths) {
      boolean present = diskSizes.containsKey(path) && !deadDisks.contains(path);
      out.add(new BlockDeviceInfo(path, present ? diskSizes.get(path) : 0, present));
    }
    return out;
  }

  // ---- the kernel's rules ----

  private void execute(KernelOp op) throws KernelException {
    if (op instanceof KernelOp.DmCreate o) {
      if (dm.containsKey(o.name())) {
        throw busy("dmsetup create " + o.name());
      }
      dm.put(o.name(), new Dm(resolveTable(o.table())));
    } else if (op instanceof KernelOp.DmReload o) {
      dmOf(o.name()).inactive = resolveTable(o.table());
    } else if (op instanceof KernelOp.DmSuspend o) {
      dmOf(o.name()).suspended = true;
    } else if (op instanceof KernelOp.DmResume o) {
      Dm x = dmOf(o.name());
      if (x.inactive != null) {
        x.table = x.inactive;
        x.inactive = null;
      }
      x.suspended = false;
    } else if (op instanceof KernelOp.DmRemove o) {
      dmOf(o.name());
      String path = "/dev/mapper/" + o.name();
      for (Map.Entry<String, Dm> e : dm.entrySet()) {
        for (DmTableLine l : e.getValue().table) {
          if (Validation.tokens(l.args()).contains(path)) {
            throw busy("dmsetup remove " + o.name() + " (used by " + e.getKey() + ")");
          }
        }
      }
      for (Sub s : subsystems.values()) {
        for (NamespaceState ns : s.namespaces.values()) {
          if (ns.devicePath().equals(path)) {
            throw busy("dmsetup remove " + o.name() + " (exported by an nvmet namespace)");
          }
        }
      }
      dm.remove(o.name());
    } else if (op instanceof KernelOp.HostCreate o) {
      if (!hosts.add(o.hostNqn())) {
        throw exists("hosts/" + o.hostNqn());
      }
    } else if (op instanceof KernelOp.HostRemove o) {
      for (Sub s : subsystems.values()) {
        if (s.allowed.contains(o.hostNqn())) {
          throw busy("rmdir hosts/" + o.hostNqn());
        }
      }
      if (!hosts.remove(o.hostNqn())) {
        throw missing("hosts/" + o.hostNqn());
      }
    } else if (op instanceof KernelOp.SubsystemCreate o) {
      if (subsystems.containsKey(o.nqn())) {
        throw exists("subsystems/" + o.nqn());
      }
      subsystems.put(o.nqn(), new Sub());
    } else if (op instanceof KernelOp.SubsystemRemove o) {
      Sub s = subOf(o.nqn());
      if (!s.namespaces.isEmpty() || !s.allowed.isEmpty()) {
        throw new KernelException("rmdir subsystems/" + o.nqn() + ": Directory not empty");
      }
      for (Port p : ports.values()) {
        if (p.links.contains(o.nqn())) {
          throw busy("rmdir subsystems/" + o.nqn() + " (linked into port " + p.def.portId() + ")");
        }
      }
      subsystems.remove(o.nqn());
    } else if (op instanceof KernelOp.SubsystemAllowHost o) {
      if (!hosts.contains(o.hostNqn())) {
        throw missing("hosts/" + o.hostNqn());
      }
      if (!subOf(o.nqn()).allowed.add(o.hostNqn())) {
        throw exists("allowed_hosts/" + o.hostNqn());
      }
    } else if (op instanceof KernelOp.SubsystemDisallowHost o) {
      if (!subOf(o.nqn()).allowed.remove(o.hostNqn())) {
        throw missing("allowed_hosts/" + o.hostNqn());
      }
    } else if (op instanceof KernelOp.NamespaceCreate o) {
      Sub s = subOf(o.nqn());
      if (s.namespaces.containsKey(o.nsid())) {
        throw exists("namespaces/" + o.nsid());
      }
      s.namespaces.put(o.nsid(), new NamespaceState(o.nsid(), resolve(o.devicePath()), o.deviceUuid(),
          o.anaGroupId(), true));
    } else if (op instanceof KernelOp.NamespaceRemove o) {
      if (subOf(o.nqn()).namespaces.remove(o.nsid()) == null) {
        throw missing("namespaces/" + o.nsid());
      }
    } else if (op instanceof KernelOp.NamespaceRevalidate o) {
      if (!subOf(o.nqn()).namespaces.containsKey(o.nsid())) {
        throw missing("namespaces/" + o.nsid());
      }
    } else if (op instanceof KernelOp.PortCreate o) {
      if (ports.containsKey(o.portId())) {
        throw exists("ports/" + o.portId());
      }
      Port p = new Port(o);
      p.groups.put(1, AnaState.OPTIMIZED); // nvmet makes group 1 with every port
      ports.put(o.portId(), p);
    } else if (op instanceof KernelOp.PortRemove o) {
      Port p = portOf(o.portId());
      if (!p.links.isEmpty() || p.groups.size() > 1) {
        throw new KernelException("rmdir ports/" + o.portId() + ": Directory not empty");
      }
      ports.remove(o.portId());
    } else if (op instanceof KernelOp.AnaGroupCreate o) {
      if (portOf(o.portId()).groups.putIfAbsent(o.groupId(), AnaState.OPTIMIZED) != null) {
        throw exists("ana_groups/" + o.groupId());
      }
    } else if (op instanceof KernelOp.AnaGroupSetState o) {
      Port p = portOf(o.portId());
      if (!p.groups.containsKey(o.groupId())) {
        throw missing("ana_groups/" + o.groupId());
      }
      p.groups.put(o.groupId(), o.state());
    } else if (op instanceof KernelOp.AnaGroupRemove o) {
      if (o.groupId() == 1) {
        throw new KernelException("rmdir ana_groups/1: Operation not permitted");
      }
      if (portOf(o.portId()).groups.remove(o.groupId()) == null) {
        throw missing("ana_groups/" + o.groupId());
      }
    } else if (op instanceof KernelOp.PortLinkSubsystem o) {
      subOf(o.nqn());
      if (!portOf(o.portId()).links.add(o.nqn())) {
        throw exists("ports/" + o.portId() + "/subsystems/" + o.nqn());
      }
    } else if (op instanceof KernelOp.PortUnlinkSubsystem o) {
      if (!portOf(o.portId()).links.remove(o.nqn())) {
        throw missing("ports/" + o.portId() + "/subsystems/" + o.nqn());
      }
    } else if (op instanceof KernelOp.Connect o) {
      var c = o.connection();
      String uuid = remoteNamespaces.get(c.subsystemNqn());
      if (uuid == null) {
        uuid = ownExport(c).orElseThrow(() -> new KernelException(
            "Failed to write to /dev/nvme-fabrics: Input/output error (Connection refused)"));
      }
      int n = nextController++;
      controllers.add(new ControllerState("nvme" + n, c.subsystemNqn(), c.address(), c.serviceId(),
          c.hostNqn(), "live", Map.of(uuid, "/dev/nvme" + n + "n1")));
    } else if (op instanceof KernelOp.Disconnect o) {
      // The real kernel would let it go and fail the I/O of the device above: a reconcile must
      // never cut a member that a live table still uses, so the fake refuses it loudly.
      for (ControllerState c : controllers) {
        if (!c.subsystemNqn().equals(o.subsystemNqn())) {
          continue;
        }
        for (String dev : c.namespaceDevicesByUuid().values()) {
          for (Map.Entry<String, Dm> e : dm.entrySet()) {
            for (DmTableLine l : e.getValue().table) {
              if (Validation.tokens(l.args()).contains(dev)) {
                throw busy("disconnect " + o.subsystemNqn() + " (" + dev + " used by " + e.getKey() + ")");
              }
            }
          }
        }
      }
      controllers.removeIf(c -> c.subsystemNqn().equals(o.subsystemNqn()));
    } else {
      throw new KernelException("unknown op " + op);
    }
    log.add(op);
  }

  /**
   * A converged node connects to its own export: it answers only once the subsystem is linked to
   * a port at the connection's address, allows the host and holds a namespace.
   */
  private java.util.Optional<String> ownExport(DesiredState.FabricConnection c) {
    Sub sub = subsystems.get(c.subsystemNqn());
    if (sub == null || !sub.allowed.contains(c.hostNqn()) || sub.namespaces.isEmpty()) {
      return java.util.Optional.empty();
    }
    boolean linked = ports.values().stream().anyMatch(p -> p.def.address().equals(c.address())
        && p.def.serviceId() == c.serviceId() && p.links.contains(c.subsystemNqn()));
    if (!linked) {
      return java.util.Optional.empty();
    }
    return java.util.Optional.of(sub.namespaces.values().iterator().next().deviceUuid());
  }

  private List<DmTableLine> resolveTable(List<DmTableLine> table) throws KernelException {
    List<DmTableLine> out = new ArrayList<>();
    for (DmTableLine l : table) {
      List<String> args = new ArrayList<>();
      for (String t : Validation.tokens(l.args())) {
        args.add(DeviceRef.parse(t).isPresent() ? resolve(t) : t);
      }
      out.add(new DmTableLine(l.start(), l.length(), l.target(), String.join(" ", args)));
    }
    return out;
  }

  private String resolve(String ref) throws KernelException {
    DeviceRef r = DeviceRef.parse(ref).orElseThrow();
    if (r instanceof DeviceRef.Disk d) {
      String path = disks.get(d.diskId());
      if (path == null || deadDisks.contains(path)) {
        throw new KernelException(ref + ": No such device");
      }
      return path;
    } else if (r instanceof DeviceRef.Dm d) {
      if (!dm.containsKey(d.name())) {
        throw new KernelException(ref + ": No such device or address");
      }
      return "/dev/mapper/" + d.name();
    } else if (r instanceof DeviceRef.Namespace n) {
      for (ControllerState c : controllers) {
        String dev = c.namespaceDevicesByUuid().get(n.uuid());
        if (dev != null) {
          return dev;
        }
      }
      throw new KernelException(ref + ": no block device for namespace uuid");
    }
    return ((DeviceRef.Path) r).path();
  }

  private Dm dmOf(String name) throws KernelException {
    Dm x = dm.get(name);
    if (x == null) {
      throw new KernelException("device-mapper " + name + ": No such device or address");
    }
    return x;
  }

  private Sub subOf(String nqn) throws KernelException {
    Sub s = subsystems.get(nqn);
    if (s == null) {
      throw missing("subsystems/" + nqn);
    }
    return s;
  }

  private Port portOf(int id) throws KernelException {
    Port p = ports.get(id);
    if (p == null) {
      throw missing("ports/" + id);
    }
    return p;
  }

  private static KernelException busy(String what) {
    return new KernelException(what + ": Device or resource busy");
  }

  private static KernelException exists(String what) {
    return new KernelException(what + ": File exists");
  }

  private static KernelException missing(String what) {
    return new KernelException(what + ": No such file or directory");
  }
}
