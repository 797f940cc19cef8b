package io.toma.kernel.sim;

import io.toma.kernel.Kernel.BlockDeviceInfo;
import io.toma.kernel.KernelException;
import io.toma.kernel.KernelOp;
import io.toma.kernel.KernelState;
import io.toma.kernel.KernelState.DmDeviceState;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalLong;
import java.util.TreeMap;
import java.util.TreeSet;

/**
 * The kernel objects of one boot of one simulated node: device-mapper devices, the nvmet tree and
 * the NVMe-oF host side. A node restart throws this away and starts a fresh one; the disks live
 * on in the node.
 */
final class KernelTwin {
  private static final String DISK_MAJOR = "251"; // null_blk's (dynamic) major on the test VMs
  private static final String DM_PREFIX = "/dev/mapper/";

  private final SimNode node;
  private final SimClock clock;
  private final long raidBandwidth;
  private final TreeMap<String, SimDmDevice> dmDevices = new TreeMap<>();
  private final NvmetTarget nvmet = new NvmetTarget();
  private final NvmeHostSide host;

  KernelTwin(SimNode node, FabricEndpoint fabric, SimClock clock, long raidBandwidth) {
    this.node = node;
    this.clock = clock;
    this.raidBandwidth = raidBandwidth;
    this.host = new NvmeHostSide(node.id(), fabric, clock);
  }

  NvmetTarget nvmet() {
    return nvmet;
  }

  NvmeHostSide host() {
    return host;
  }

  void apply(KernelOp op) throws KernelException {
    if (op instanceof KernelOp.DmCreate create) {
      if (dmDevices.containsKey(create.name())) {
        throw dmError("create", create.name(), "Device or resource busy", "device already exists");
      }
      List<DmTableParser.Segment> table = parse("create", create.name(), create.table());
      dmDevices.put(create.name(), new SimDmDevice(create.name(), freeDmMinor(), table, clock.nowNanos()));
    } else if (op instanceof KernelOp.DmReload reload) {
      SimDmDevice device = dm("reload", reload.name());
      device.load(parse("reload", reload.name(), reload.table()));
    } else if (op instanceof KernelOp.DmSuspend suspend) {
      dm("suspend", suspend.name()).suspend();
    } else if (op instanceof KernelOp.DmResume resume) {
      dm("resume", resume.name()).resume(clock.nowNanos());
    } else if (op instanceof KernelOp.DmRemove remove) {
      removeDm(remove.name());
    } else if (op instanceof KernelOp.ZeroSectors zero) {
      zero(zero);
    } else if (op instanceof KernelOp.HostCreate h) {
      nvmet.createHost(h.hostNqn());
    } else if (op instanceof KernelOp.HostRemove h) {
      nvmet.removeHost(h.hostNqn());
    } else if (op instanceof KernelOp.SubsystemCreate s) {
      nvmet.createSubsystem(s.nqn(), s.cntlidMin(), s.cntlidMax());
    } else if (op instanceof KernelOp.SubsystemRemove s) {
      nvmet.removeSubsystem(s.nqn());
    } else if (op instanceof KernelOp.SubsystemAllowHost a) {
      nvmet.allowHost(a.nqn(), a.hostNqn());
    } else if (op instanceof KernelOp.SubsystemDisallowHost d) {
      nvmet.disallowHost(d.nqn(), d.hostNqn());
    } else if (op instanceof KernelOp.NamespaceCreate ns) {
      DevRef device;
      try {
        device = resolve(ns.devicePath());
      } catch (DeviceResolver.LookupFailed e) {
        throw new KernelException("write subsystems/" + ns.nqn() + "/namespaces/" + ns.nsid()
            + "/enable: No such file or directory (" + ns.devicePath() + ")");
      }
      nvmet.createNamespace(ns.nqn(), ns.nsid(), pathOf(ns.devicePath()), ns.deviceUuid(), ns.anaGroupId(),
          device.device());
    } else if (op instanceof KernelOp.NamespaceRemove ns) {
      nvmet.removeNamespace(ns.nqn(), ns.nsid());
    } else if (op instanceof KernelOp.NamespaceRevalidate ns) {
      nvmet.revalidate(ns.nqn(), ns.nsid());
    } else if (op instanceof KernelOp.PortCreate p) {
      nvmet.createPort(p.portId(), p.transport(), p.addressFamily(), p.address(), p.serviceId());
    } else if (op instanceof KernelOp.PortRemove p) {
      nvmet.removePort(p.portId());
    } else if (op instanceof KernelOp.AnaGroupCreate g) {
      nvmet.createAnaGroup(g.portId(), g.groupId());
    } else if (op instanceof KernelOp.AnaGroupSetState g) {
      nvmet.setAnaState(g.portId(), g.groupId(), g.state());
    } else if (op instanceof KernelOp.AnaGroupRemove g) {
      nvmet.removeAnaGroup(g.portId(), g.groupId());
    } else if (op instanceof KernelOp.PortLinkSubsystem l) {
      nvmet.link(l.portId(), l.nqn(), node.fabricAddress());
    } else if (op instanceof KernelOp.PortUnlinkSubsystem u) {
      nvmet.unlink(u.portId(), u.nqn());
    } else if (op instanceof KernelOp.Connect c) {
      host.connect(c.connection());
    } else if (op instanceof KernelOp.Disconnect d) {
      host.disconnect(d.subsystemNqn());
    } else {
      throw new KernelException("operation not supported by the simulated kernel: " + op);
    }
  }

  private void removeDm(String name) throws KernelException {
    SimDmDevice device = dm("remove", name);
    for (SimDmDevice other : dmDevices.values()) {
      if (other != device && other.holds().stream().anyMatch(held -> held == device)) {
        throw dmError("remove", name, "Device or resource busy", "used by " + other.name());
      }
    }
    if (nvmet.heldDevices().stream().anyMatch(held -> held == device)) {
      throw dmError("remove", name, "Device or resource busy", "used by an nvmet namespace");
    }
    device.remove();
    dmDevices.remove(name);
  }

  private List<DmTableParser.Segment> parse(String ioctl, String name, List<io.toma.kernel.DesiredState.DmTableLine> table)
      throws KernelException {
    try {
      return new DmTableParser(this::resolve, raidBandwidth).parse(table);
    } catch (DmTableParser.TableError e) {
      throw dmError(ioctl, name, e.errno, e.getMessage());
    }
  }

  private SimDmDevice dm(String ioctl, String name) throws KernelException {
    SimDmDevice device = dmDevices.get(name);
    if (device == null) {
      throw dmError(ioctl, name, "No such device or address", "no such device");
    }
    return device;
  }

  private static KernelException dmError(String ioctl, String name, String errno, String detail) {
    return new KernelException("device-mapper: " + ioctl + " ioctl on " + name + " failed: " + errno
        + " (" + detail + ")");
  }

  private int freeDmMinor() {
    TreeSet<Integer> used = new TreeSet<>();
    dmDevices.values().forEach(d -> used.add(d.minor()));
    int minor = 0;
    while (used.contains(minor)) {
      minor++;
    }
    return minor;
  }

  /** The path configfs shows for a namespace whose device_path was given as {@code reference}. */
  private String pathOf(String reference) {
    if (reference.startsWith("@disk:")) {
      return node.diskById(reference.substring(6)).map(SimDisk::path).orElse(reference);
    }
    if (reference.startsWith("@dm:")) {
      return DM_PREFIX + reference.substring(4);
    }
    if (reference.startsWith("@ns:")) {
      String uuid = reference.substring(4);
      return host.headsByPath().values().stream().filter(h -> h.uuid.equalsIgnoreCase(uuid)).findFirst()
          .map(NvmeHostSide.Head::path).orElse(reference);
    }
    return reference;
  }

  /** dd if=/dev/zero: zeros over the range, in bounded chunks (zero pages cost no memory). */
  private void zero(KernelOp.ZeroSectors zero) throws KernelException {
    SimBlockDevice device;
    try {
      device = resolve(zero.device()).device();
    } catch (DeviceResolver.LookupFailed e) {
      throw new KernelException("dd: failed to open '" + zero.device() + "': No such file or directory");
    }
    long from = zero.startSector() * 512;
    long end = from + zero.sectors() * 512;
    byte[] chunk = new byte[(int) Math.min(1 << 20, end - from)];
    for (long offset = from; offset < end; offset += chunk.length) {
      byte[] data = offset + chunk.length <= end ? chunk : new byte[(int) (end - offset)];
      if (device.write(offset, data) instanceof IoResult.Error error) {
        throw new KernelException("dd: error writing '" + zero.device() + "': " + error.reason());
      }
    }
  }

  /** Resolves a path, a major:minor or a symbolic reference (@disk:, @dm:, @ns:). */
  DevRef resolve(String reference) throws DeviceResolver.LookupFailed {
    String path = pathOf(reference);
    for (Map.Entry<String, DevRef> entry : devices().entrySet()) {
      if (entry.getKey().equals(path) || entry.getValue().majorMinor().equals(path)) {
        return entry.getValue();
      }
    }
    throw new DeviceResolver.LookupFailed(reference);
  }

  /** Every block device present now, by path. */
  private Map<String, DevRef> devices() {
    Map<String, DevRef> devices = new LinkedHashMap<>();
    List<SimDisk> disks = node.disks();
    for (int i = 0; i < disks.size(); i++) {
      SimDisk disk = disks.get(i);
      if (!disk.isDead()) {
        devices.put(disk.path(), new DevRef(disk, DISK_MAJOR + ":" + i));
      }
    }
    for (SimDmDevice dm : dmDevices.values()) {
      DevRef ref = new DevRef(dm, dm.majorMinor());
      devices.put(DM_PREFIX + dm.name(), ref);
      devices.put("/dev/dm-" + dm.minor(), ref);
    }
    host.headsByPath().forEach((path, head) -> devices.put(path, new DevRef(head, head.majorMinor())));
    return devices;
  }

  Optional<SimBlockDevice> device(String pathOrReference) {
    try {
      return Optional.of(resolve(pathOrReference).device());
    } catch (DeviceResolver.LookupFailed e) {
      return Optional.empty();
    }
  }

  List<BlockDeviceInfo> blockDevices(List<String> paths) {
    List<BlockDeviceInfo> infos = new ArrayList<>();
    for (String path : paths) {
      Optional<SimBlockDevice> device = device(path);
      infos.add(new BlockDeviceInfo(path, device.map(SimBlockDevice::sizeBytes).orElse(0L), device.isPresent()));
    }
    return infos;
  }

  KernelState read() {
    Map<String, DmDeviceState> dm = new LinkedHashMap<>();
    for (SimDmDevice device : dmDevices.values()) {
      dm.put(device.name(), new DmDeviceState(device.name(), device.tableLines(), device.suspended(), device.status()));
    }
    return new KernelState(dm, nvmet.subsystemStates(), nvmet.hosts(), nvmet.portStates(), host.controllerStates());
  }

  OptionalLong nextDeadlineNanos() {
    long earliest = host.nextDeadlineNanos().orElse(Long.MAX_VALUE);
    for (SimDmDevice device : dmDevices.values()) {
      earliest = Math.min(earliest, device.nextDeadlineNanos().orElse(Long.MAX_VALUE));
    }
    return earliest == Long.MAX_VALUE ? OptionalLong.empty() : OptionalLong.of(earliest);
  }

  void onTime(long nowNanos) {
    host.onTime(nowNanos);
    for (SimDmDevice device : List.copyOf(dmDevices.values())) {
      device.onTime(nowNanos);
    }
  }
}
