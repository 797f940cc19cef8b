package io.toma.kernel;

import io.toma.kernel.DesiredState.ConnectTimeouts;
import io.toma.kernel.DesiredState.DmDevice;
import io.toma.kernel.DesiredState.DmTableLine;
import io.toma.kernel.DesiredState.FabricConnection;
import io.toma.kernel.DesiredState.NvmetNamespace;
import io.toma.kernel.DesiredState.NvmetPort;
import io.toma.kernel.DesiredState.NvmetSubsystem;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.regex.Pattern;

/**
 * Every name, NQN, number and table argument is checked here before it can reach a configfs path
 * or a process argument. The rules are deliberately narrower than what the kernel accepts: Toma
 * only ever produces these shapes, so anything else is a bug or an attack and is refused whole.
 */
public final class Validation {
  private Validation() {}

  /** dm names: dmsetup allows 127 bytes; Toma names are short, prefixed and path-safe. */
  static final int DM_NAME_MAX = 127;
  /** NVMe base specification: an NQN is at most 223 bytes (NVMF_NQN_SIZE - 1). */
  static final int NQN_MAX = 223;

  private static final Pattern DM_NAME = Pattern.compile("[A-Za-z0-9._-]+");
  /** nqn.yyyy-mm.reverse.domain:rest; the rest restricted to characters safe in a path. */
  private static final Pattern NQN =
      Pattern.compile("nqn\\.[0-9]{4}-(0[1-9]|1[0-2])\\.[A-Za-z0-9-]+(\\.[A-Za-z0-9-]+)+:[A-Za-z0-9._:-]+");
  private static final Pattern UUID =
      Pattern.compile("[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}");
  private static final Pattern IPV4 = Pattern.compile("(25[0-5]|2[0-4][0-9]|1?[0-9]?[0-9])(\\.(25[0-5]|2[0-4][0-9]|1?[0-9]?[0-9])){3}");
  private static final Pattern IPV6 = Pattern.compile("[0-9a-fA-F:]{2,39}");
  private static final Pattern ID = Pattern.compile("[A-Za-z0-9._-]{1,64}");
  private static final Pattern TARGET = Pattern.compile("[a-z][a-z0-9_-]{0,31}");
  /** A table argument: a number, a word, '-', or a device reference; never a shell character. */
  private static final Pattern TABLE_TOKEN = Pattern.compile("[A-Za-z0-9._:/@-]{1,255}");
  private static final Pattern DEV_PATH = Pattern.compile("/dev/[A-Za-z0-9._/-]{1,200}");
  private static final Set<String> TRANSPORTS = Set.of("tcp", "rdma", "loop");
  private static final Set<String> FAMILIES = Set.of("ipv4", "ipv6", "ib", "fc", "loop");

  public static String dmName(String name) throws KernelException {
    if (!name.startsWith(Names.PREFIX)) {
      throw refused("dm name", name, "must start with " + Names.PREFIX);
    }
    if (name.length() > DM_NAME_MAX || !DM_NAME.matcher(name).matches() || name.contains("..")) {
      throw refused("dm name", name, "only [A-Za-z0-9._-], at most " + DM_NAME_MAX + " bytes, no '..'");
    }
    return name;
  }

  /** Any well-formed NQN (hosts that attach may be outside Toma's naming scheme). */
  public static String nqn(String nqn) throws KernelException {
    if (nqn.getBytes(StandardCharsets.UTF_8).length > NQN_MAX) {
      throw refused("NQN", nqn, "longer than " + NQN_MAX + " bytes");
    }
    if (!NQN.matcher(nqn).matches() || nqn.contains("..")) {
      throw refused("NQN", nqn, "not of the form nqn.yyyy-mm.reverse.domain:name with [A-Za-z0-9._:-]");
    }
    return nqn;
  }

  /** An NQN Toma owns: well-formed and carrying {@link Names#NQN_PREFIX}. */
  public static String tomaNqn(String nqn) throws KernelException {
    nqn(nqn);
    if (!nqn.startsWith(Names.NQN_PREFIX)) {
      throw refused("subsystem NQN", nqn, "must start with " + Names.NQN_PREFIX);
    }
    return nqn;
  }

  public static String uuid(String uuid) throws KernelException {
    if (!UUID.matcher(uuid).matches()) {
      throw refused("uuid", uuid, "not a uuid (8-4-4-4-12 hex digits)");
    }
    return uuid;
  }

  public static int portId(int portId) throws KernelException {
    return range("port id", portId, 1, 65535);
  }

  public static int serviceId(int serviceId) throws KernelException {
    return range("service id", serviceId, 1, 65535);
  }

  public static int nsid(int nsid) throws KernelException {
    return range("namespace id", nsid, 1, 1 << 20);
  }

  /** nvmet allows ANA group ids 1..NVMET_MAX_ANAGRPS (128). */
  public static int anaGroupId(int groupId) throws KernelException {
    return range("ANA group id", groupId, 1, 128);
  }

  public static String address(String address) throws KernelException {
    if (IPV4.matcher(address).matches() || (address.contains(":") && IPV6.matcher(address).matches())) {
      return address;
    }
    throw refused("address", address, "not an IPv4 or IPv6 address");
  }

  public static String transport(String transport) throws KernelException {
    if (!TRANSPORTS.contains(transport)) {
      throw refused("transport", transport, "not one of " + TRANSPORTS);
    }
    return transport;
  }

  public static String addressFamily(String family) throws KernelException {
    if (!FAMILIES.contains(family)) {
      throw refused("address family", family, "not one of " + FAMILIES);
    }
    return family;
  }

  public static String diskId(String diskId) throws KernelException {
    if (!ID.matcher(diskId).matches() || diskId.contains("..")) {
      throw refused("disk id", diskId, "only [A-Za-z0-9._-], 1..64 characters, no '..'");
    }
    return diskId;
  }

  /** A device path or symbolic reference, as in a namespace's device_path. */
  public static String devicePath(String path) throws KernelException {
    Optional<DeviceRef> ref = DeviceRef.parse(path);
    if (ref.isEmpty()) {
      throw refused("device path", path, "neither /dev/... nor @disk:, @dm:, @ns:");
    }
    DeviceRef r = ref.get();
    if (r instanceof DeviceRef.Disk d) {
      diskId(d.diskId());
    } else if (r instanceof DeviceRef.Dm d) {
      dmName(d.name());
    } else if (r instanceof DeviceRef.Namespace n) {
      uuid(n.uuid());
    } else if (r instanceof DeviceRef.Path p) {
      if (!DEV_PATH.matcher(p.path()).matches() || p.path().contains("..")) {
        throw refused("device path", path, "only /dev/[A-Za-z0-9._/-], no '..'");
      }
    }
    return path;
  }

  public static void table(String dmName, List<DmTableLine> table) throws KernelException {
    if (table.isEmpty()) {
      throw refused("dm table of", dmName, "is empty");
    }
    long expectedStart = 0;
    for (DmTableLine line : table) {
      if (line.start() != expectedStart || line.length() <= 0) {
        throw refused("dm table of", dmName,
            "lines must be contiguous from sector 0 with positive lengths, got start " + line.start()
                + " length " + line.length());
      }
      expectedStart += line.length();
      if (!TARGET.matcher(line.target()).matches()) {
        throw refused("dm target", line.target(), "not a target name");
      }
      for (String token : tokens(line.args())) {
        if (!TABLE_TOKEN.matcher(token).matches() || token.contains("..")) {
          throw refused("dm table argument of " + dmName, token,
              "only [A-Za-z0-9._:/@-], no '..', no shell characters");
        }
        if (token.startsWith("@") || token.startsWith("/")) {
          devicePath(token);
        }
      }
    }
  }

  public static void timeouts(ConnectTimeouts t) throws KernelException {
    range("keep-alive timeout", t.keepAlive(), 1, 3600);
    range("ctrl-loss timeout", t.ctrlLoss(), -1, 1_000_000);
    range("reconnect delay", t.reconnectDelay(), 1, 3600);
    if (t.fastIoFail().isPresent()) {
      range("fast-io-fail timeout", t.fastIoFail().get(), -1, 1_000_000);
    }
  }

  public static void connection(FabricConnection c) throws KernelException {
    tomaNqn(c.subsystemNqn());
    transport(c.transport());
    address(c.address());
    serviceId(c.serviceId());
    nqn(c.hostNqn());
    timeouts(c.timeouts());
  }

  /** Every object of one volume's desired state, before it is stored or acted on. */
  public static void desired(DesiredState d) throws KernelException {
    diskId(d.volumeId());
    for (DmDevice dev : d.dmDevices()) {
      dmName(dev.name());
      table(dev.name(), dev.table());
    }
    for (NvmetSubsystem s : d.subsystems()) {
      tomaNqn(s.nqn());
      for (String h : s.allowedHosts()) {
        nqn(h);
      }
      for (NvmetNamespace ns : s.namespaces()) {
        nsid(ns.nsid());
        devicePath(ns.devicePath());
        uuid(ns.deviceUuid());
        anaGroupId(ns.anaGroupId());
      }
      cntlidRange(s.cntlidMin(), s.cntlidMax());
    }
    for (NvmetPort p : d.ports()) {
      portId(p.portId());
      transport(p.transport());
      addressFamily(p.addressFamily());
      address(p.address());
      serviceId(p.serviceId());
      for (Integer g : p.anaGroups().keySet()) {
        anaGroupId(g);
      }
      for (String s : p.subsystems()) {
        tomaNqn(s);
      }
    }
    for (FabricConnection c : d.connections()) {
      connection(c);
    }
  }

  /** One operation, before it reaches a path or an argument. */
  public static void op(KernelOp op) throws KernelException {
    if (op instanceof KernelOp.DmCreate o) {
      table(dmName(o.name()), o.table());
    } else if (op instanceof KernelOp.DmReload o) {
      table(dmName(o.name()), o.table());
    } else if (op instanceof KernelOp.DmSuspend o) {
      dmName(o.name());
    } else if (op instanceof KernelOp.DmResume o) {
      dmName(o.name());
    } else if (op instanceof KernelOp.DmRemove o) {
      dmName(o.name());
    } else if (op instanceof KernelOp.ZeroSectors o) {
      devicePath(o.device());
      if (o.startSector() < 0 || o.sectors() <= 0) {
        throw refused("sector range", o.startSector() + "+" + o.sectors(), "start < 0 or no sectors");
      }
    } else if (op instanceof KernelOp.HostCreate o) {
      nqn(o.hostNqn());
    } else if (op instanceof KernelOp.HostRemove o) {
      nqn(o.hostNqn());
    } else if (op instanceof KernelOp.SubsystemCreate o) {
      tomaNqn(o.nqn());
      cntlidRange(o.cntlidMin(), o.cntlidMax());
    } else if (op instanceof KernelOp.SubsystemRemove o) {
      tomaNqn(o.nqn());
    } else if (op instanceof KernelOp.SubsystemAllowHost o) {
      tomaNqn(o.nqn());
      nqn(o.hostNqn());
    } else if (op instanceof KernelOp.SubsystemDisallowHost o) {
      tomaNqn(o.nqn());
      nqn(o.hostNqn());
    } else if (op instanceof KernelOp.NamespaceCreate o) {
      tomaNqn(o.nqn());
      nsid(o.nsid());
      devicePath(o.devicePath());
      uuid(o.deviceUuid());
      anaGroupId(o.anaGroupId());
    } else if (op instanceof KernelOp.NamespaceRemove o) {
      tomaNqn(o.nqn());
      nsid(o.nsid());
    } else if (op instanceof KernelOp.NamespaceRevalidate o) {
      tomaNqn(o.nqn());
      nsid(o.nsid());
    } else if (op instanceof KernelOp.PortCreate o) {
      portId(o.portId());
      transport(o.transport());
      addressFamily(o.addressFamily());
      address(o.address());
      serviceId(o.serviceId());
    } else if (op instanceof KernelOp.PortRemove o) {
      portId(o.portId());
    } else if (op instanceof KernelOp.AnaGroupCreate o) {
      portId(o.portId());
      anaGroupId(o.groupId());
    } else if (op instanceof KernelOp.AnaGroupSetState o) {
      portId(o.portId());
      anaGroupId(o.groupId());
      if (o.state() == null) {
        throw refused("ANA state of group", String.valueOf(o.groupId()), "missing");
      }
    } else if (op instanceof KernelOp.AnaGroupRemove o) {
      portId(o.portId());
      anaGroupId(o.groupId());
    } else if (op instanceof KernelOp.PortLinkSubsystem o) {
      portId(o.portId());
      tomaNqn(o.nqn());
    } else if (op instanceof KernelOp.PortUnlinkSubsystem o) {
      portId(o.portId());
      tomaNqn(o.nqn());
    } else if (op instanceof KernelOp.Connect o) {
      connection(o.connection());
    } else if (op instanceof KernelOp.Disconnect o) {
      tomaNqn(o.subsystemNqn());
    } else {
      throw new KernelException("unknown operation " + op);
    }
  }

  /** The whole list, before the first one runs: nothing is half-applied by bad input. */
  public static void ops(List<KernelOp> ops) throws KernelException {
    for (int i = 0; i < ops.size(); i++) {
      try {
        op(ops.get(i));
      } catch (KernelException e) {
        throw new KernelException("operation " + (i + 1) + " of " + ops.size() + " refused, nothing applied: "
            + e.getMessage(), e);
      }
    }
  }

  /** The whitespace-separated tokens of a table's argument string. */
  public static List<String> tokens(String args) {
    String trimmed = args.trim();
    return trimmed.isEmpty() ? List.of() : List.of(trimmed.split("\\s+"));
  }

  private static void cntlidRange(Optional<Integer> min, Optional<Integer> max) throws KernelException {
    if (min.isPresent()) {
      range("cntlid_min", min.get(), 1, 0xffef);
    }
    if (max.isPresent()) {
      range("cntlid_max", max.get(), 1, 0xffef);
    }
    if (min.isPresent() && max.isPresent() && min.get() > max.get()) {
      throw refused("cntlid range", min.get() + ".." + max.get(), "min above max");
    }
  }

  private static int range(String what, int value, int min, int max) throws KernelException {
    if (value < min || value > max) {
      throw refused(what, String.valueOf(value), "outside " + min + ".." + max);
    }
    return value;
  }

  private static KernelException refused(String what, String value, String why) {
    return new KernelException("invalid " + what + " '" + printable(value) + "': " + why);
  }

  /** Never echo control characters from untrusted input into logs. */
  private static String printable(String value) {
    String cut = value.length() > 240 ? value.substring(0, 240) + "..." : value;
    return cut.replaceAll("\\p{Cntrl}", "?");
  }
}
