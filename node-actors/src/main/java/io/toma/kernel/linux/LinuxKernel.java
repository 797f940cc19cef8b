package io.toma.kernel.linux;

import io.toma.kernel.DesiredState.AnaState;
import io.toma.kernel.DesiredState.ConnectTimeouts;
import io.toma.kernel.DesiredState.DmTableLine;
import io.toma.kernel.DesiredState.FabricConnection;
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
import io.toma.kernel.linux.DmsetupOutput.DmInfo;
import io.toma.kernel.plan.ShellPlan;
import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.regex.Pattern;

/**
 * The kernel of a real Linux node: nvmet through configfs, device-mapper through dmsetup, the
 * NVMe-oF host through nvme-cli and /dev/nvme-fabrics, facts from /sys. Every operation is
 * validated before any path or argument is built from it. Not thread-safe: one agent drives it
 * one operation at a time.
 */
public final class LinuxKernel implements Kernel {
  private static final Pattern MAJOR_MINOR = Pattern.compile("([0-9]+):([0-9]+)");
  private static final Pattern HIDDEN_PATH_NODE = Pattern.compile("nvme[0-9]+c[0-9]+n[0-9]+");
  private static final Pattern HEAD_NODE = Pattern.compile("nvme[0-9]+n[0-9]+");

  private final HostIo io;
  private final String configfsRoot;
  private final String nvmet;
  private final String sys;
  private final String scratchDir;
  private final Map<String, String> diskPaths;
  private final int namespaceWaitAttempts;
  private final long namespaceWaitMillis;

  /**
   * @param configfsRoot where configfs is mounted (default {@link ShellPlan#DEFAULT_CONFIGFS})
   * @param sysRoot where sysfs is mounted ("/sys")
   * @param scratchDir a writable directory for multi-line dm tables (dmsetup reads them from a file)
   * @param diskPaths this node's physical disks: disk id to block device path
   */
  public LinuxKernel(HostIo io, String configfsRoot, String sysRoot, String scratchDir,
      Map<String, String> diskPaths) {
    this(io, configfsRoot, sysRoot, scratchDir, diskPaths, 50, 200);
  }

  private LinuxKernel(HostIo io, String configfsRoot, String sysRoot, String scratchDir,
      Map<String, String> diskPaths, int namespaceWaitAttempts, long namespaceWaitMillis) {
    this.namespaceWaitAttempts = namespaceWaitAttempts;
    this.namespaceWaitMillis = namespaceWaitMillis;
    this.io = io;
    this.configfsRoot = configfsRoot;
    this.nvmet = configfsRoot + "/nvmet";
    this.sys = sysRoot;
    this.scratchDir = scratchDir;
    this.diskPaths = Map.copyOf(diskPaths);
  }

  /**
   * How long to look for a namespace's block device after a connect (the kernel scans it a moment
   * later): attempts times pause. Default 50 x 200 ms.
   */
  public LinuxKernel withNamespaceWait(int attempts, long pauseMillis) {
    return new LinuxKernel(io, configfsRoot, sys, scratchDir, diskPaths, attempts, pauseMillis);
  }

  public LinuxKernel(HostIo io, Map<String, String> diskPaths) {
    this(io, ShellPlan.DEFAULT_CONFIGFS, "/sys", "/tmp", diskPaths);
  }

  // ------------------------------------------------------------------ read

  @Override
  public KernelState read() throws KernelException {
    try {
      return new KernelState(readDm(), readSubsystems(), new TreeSet<>(io.list(nvmet + "/hosts")),
          readPorts(), readControllers());
    } catch (IOException e) {
      throw new KernelException("reading the kernel's state failed: " + e.getMessage(), e);
    } catch (IllegalArgumentException e) {
      throw new KernelException("the kernel's state could not be parsed: " + e.getMessage(), e);
    }
  }

  private Map<String, DmDeviceState> readDm() throws IOException, KernelException {
    Map<String, DmInfo> info = DmsetupOutput.info(run(List.of("dmsetup", "info")));
    Map<String, String> dmByNumber = new TreeMap<>();
    info.values().forEach(i -> dmByNumber.put(i.major() + ":" + i.minor(), i.name()));
    Map<String, List<String>> tables = DmsetupOutput.linesByDevice(run(List.of("dmsetup", "table")));
    Map<String, List<String>> status = DmsetupOutput.linesByDevice(run(List.of("dmsetup", "status")));
    Map<String, DmDeviceState> out = new TreeMap<>();
    for (DmInfo i : info.values()) {
      List<DmTableLine> table = new ArrayList<>();
      for (String line : tables.getOrDefault(i.name(), List.of())) {
        DmTableLine parsed = DmsetupOutput.tableLine(line);
        table.add(new DmTableLine(parsed.start(), parsed.length(), parsed.target(),
            devicesAsPaths(parsed.args(), dmByNumber)));
      }
      out.put(i.name(), new DmDeviceState(i.name(), table, i.suspended(),
          String.join("\n", status.getOrDefault(i.name(), List.of()))));
    }
    return out;
  }

  /**
   * The kernel prints devices as major:minor; name them as paths so that the diff can see which
   * dm device uses which (/dev/mapper/NAME) and an operator can read them.
   */
  private String devicesAsPaths(String args, Map<String, String> dmByNumber) {
    List<String> out = new ArrayList<>();
    for (String token : Validation.tokens(args)) {
      var m = MAJOR_MINOR.matcher(token);
      if (!m.matches()) {
        out.add(token);
      } else if (dmByNumber.containsKey(token)) {
        out.add("/dev/mapper/" + dmByNumber.get(token));
      } else {
        out.add(blockDeviceName(token).map(n -> "/dev/" + n).orElse(token));
      }
    }
    return String.join(" ", out);
  }

  private Optional<String> blockDeviceName(String majorMinor) {
    try {
      String link = io.readLink(sys + "/dev/block/" + majorMinor);
      return Optional.of(link.substring(link.lastIndexOf('/') + 1));
    } catch (IOException e) {
      return Optional.empty();
    }
  }

  private Map<String, SubsystemState> readSubsystems() throws IOException {
    Map<String, SubsystemState> out = new TreeMap<>();
    for (String nqn : io.list(nvmet + "/subsystems")) {
      String dir = nvmet + "/subsystems/" + nqn;
      Map<Integer, NamespaceState> namespaces = new TreeMap<>();
      for (String n : io.list(dir + "/namespaces")) {
        Optional<Integer> nsid = integer(n);
        if (nsid.isEmpty()) {
          continue;
        }
        String ns = dir + "/namespaces/" + n;
        namespaces.put(nsid.get(), new NamespaceState(nsid.get(), attr(ns + "/device_path"),
            attr(ns + "/device_uuid"), integer(attr(ns + "/ana_grpid")).orElse(1),
            "1".equals(attr(ns + "/enable"))));
      }
      out.put(nqn, new SubsystemState(nqn, "1".equals(attr(dir + "/attr_allow_any_host")),
          new TreeSet<>(io.list(dir + "/allowed_hosts")), namespaces));
    }
    return out;
  }

  private Map<Integer, PortState> readPorts() throws IOException {
    Map<Integer, PortState> out = new TreeMap<>();
    for (String p : io.list(nvmet + "/ports")) {
      Optional<Integer> id = integer(p);
      if (id.isEmpty()) {
        continue;
      }
      String dir = nvmet + "/ports/" + p;
      Map<Integer, AnaState> groups = new TreeMap<>();
      for (String g : io.list(dir + "/ana_groups")) {
        Optional<Integer> gid = integer(g);
        Optional<AnaState> state = anaState(attr(dir + "/ana_groups/" + g + "/ana_state"));
        if (gid.isPresent() && state.isPresent()) {
          groups.put(gid.get(), state.get());
        }
      }
      out.put(id.get(), new PortState(id.get(), attr(dir + "/addr_trtype"), attr(dir + "/addr_adrfam"),
          attr(dir + "/addr_traddr"), integer(attr(dir + "/addr_trsvcid")).orElse(0), groups,
          new TreeSet<>(io.list(dir + "/subsystems"))));
    }
    return out;
  }

  private List<ControllerState> readControllers() throws IOException {
    // Namespace head devices by subsystem NQN: nvmeXnY (never the hidden per-path nvmeXcYnZ).
    Map<String, Map<String, String>> devicesByNqn = new TreeMap<>();
    for (String dev : io.list(sys + "/block")) {
      if (!HEAD_NODE.matcher(dev).matches() || HIDDEN_PATH_NODE.matcher(dev).matches()) {
        continue;
      }
      String uuid = attr(sys + "/block/" + dev + "/uuid");
      String nqn = attr(sys + "/block/" + dev + "/device/subsysnqn");
      if (!uuid.isEmpty() && !nqn.isEmpty()) {
        devicesByNqn.computeIfAbsent(nqn, k -> new TreeMap<>()).put(uuid, "/dev/" + dev);
      }
    }
    List<ControllerState> out = new ArrayList<>();
    for (String c : io.list(sys + "/class/nvme")) {
      String dir = sys + "/class/nvme/" + c;
      String nqn = attr(dir + "/subsysnqn");
      FabricAddress address = FabricAddress.parse(attr(dir + "/address"));
      out.add(new ControllerState(c, nqn, address.traddr(), address.trsvcid().orElse(0),
          attr(dir + "/hostnqn"), attr(dir + "/state"), devicesByNqn.getOrDefault(nqn, Map.of())));
    }
    return out;
  }

  // ------------------------------------------------------------------ apply

  @Override
  public void apply(KernelOp op) throws KernelException {
    Validation.op(op);
    try {
      execute(op);
    } catch (IOException e) {
      throw new KernelException(op + " failed: " + e.getMessage(), e);
    }
  }

  private void execute(KernelOp op) throws IOException, KernelException {
    if (op instanceof KernelOp.DmCreate o) {
      dmsetupWithTable("create", o.name(), o.table());
      run(List.of("dmsetup", "mknodes", o.name())); // no udev on storage nodes
    } else if (op instanceof KernelOp.DmReload o) {
      dmsetupWithTable("reload", o.name(), o.table());
    } else if (op instanceof KernelOp.DmSuspend o) {
      run(o.noFlush() ? List.of("dmsetup", "suspend", "--noflush", o.name())
          : List.of("dmsetup", "suspend", o.name()));
    } else if (op instanceof KernelOp.DmResume o) {
      run(List.of("dmsetup", "resume", o.name()));
    } else if (op instanceof KernelOp.DmRemove o) {
      run(List.of("dmsetup", "remove", o.name()));
    } else if (op instanceof KernelOp.ZeroSectors o) {
      run(ShellPlan.zeroArgv(resolve(o.device()), o));
    } else if (op instanceof KernelOp.HostCreate o) {
      io.mkdir(host(o.hostNqn()));
    } else if (op instanceof KernelOp.HostRemove o) {
      io.rmdir(host(o.hostNqn()));
    } else if (op instanceof KernelOp.SubsystemCreate o) {
      String dir = sub(o.nqn());
      io.mkdir(dir);
      io.write(dir + "/attr_allow_any_host", "0");
      if (o.cntlidMin().isPresent()) {
        io.write(dir + "/attr_cntlid_min", o.cntlidMin().get().toString());
      }
      if (o.cntlidMax().isPresent()) {
        io.write(dir + "/attr_cntlid_max", o.cntlidMax().get().toString());
      }
    } else if (op instanceof KernelOp.SubsystemRemove o) {
      io.rmdir(sub(o.nqn()));
    } else if (op instanceof KernelOp.SubsystemAllowHost o) {
      io.symlink(host(o.hostNqn()), sub(o.nqn()) + "/allowed_hosts/" + o.hostNqn());
    } else if (op instanceof KernelOp.SubsystemDisallowHost o) {
      io.unlink(sub(o.nqn()) + "/allowed_hosts/" + o.hostNqn());
    } else if (op instanceof KernelOp.NamespaceCreate o) {
      String dir = sub(o.nqn()) + "/namespaces/" + o.nsid();
      String device = resolve(o.devicePath());
      io.mkdir(dir);
      io.write(dir + "/device_path", device);
      io.write(dir + "/device_uuid", o.deviceUuid());
      io.write(dir + "/ana_grpid", Integer.toString(o.anaGroupId()));
      io.write(dir + "/enable", "1");
    } else if (op instanceof KernelOp.NamespaceRemove o) {
      String dir = sub(o.nqn()) + "/namespaces/" + o.nsid();
      io.write(dir + "/enable", "0");
      io.rmdir(dir);
    } else if (op instanceof KernelOp.NamespaceRevalidate o) {
      io.write(sub(o.nqn()) + "/namespaces/" + o.nsid() + "/revalidate_size", "1");
    } else if (op instanceof KernelOp.PortCreate o) {
      String dir = port(o.portId());
      io.mkdir(dir);
      io.write(dir + "/addr_trtype", o.transport());
      io.write(dir + "/addr_adrfam", o.addressFamily());
      io.write(dir + "/addr_traddr", o.address());
      io.write(dir + "/addr_trsvcid", Integer.toString(o.serviceId()));
    } else if (op instanceof KernelOp.PortRemove o) {
      io.rmdir(port(o.portId()));
    } else if (op instanceof KernelOp.AnaGroupCreate o) {
      io.mkdir(port(o.portId()) + "/ana_groups/" + o.groupId());
    } else if (op instanceof KernelOp.AnaGroupSetState o) {
      io.write(port(o.portId()) + "/ana_groups/" + o.groupId() + "/ana_state", o.state().kernelName());
    } else if (op instanceof KernelOp.AnaGroupRemove o) {
      io.rmdir(port(o.portId()) + "/ana_groups/" + o.groupId());
    } else if (op instanceof KernelOp.PortLinkSubsystem o) {
      io.symlink(sub(o.nqn()), port(o.portId()) + "/subsystems/" + o.nqn());
    } else if (op instanceof KernelOp.PortUnlinkSubsystem o) {
      io.unlink(port(o.portId()) + "/subsystems/" + o.nqn());
    } else if (op instanceof KernelOp.Connect o) {
      connect(o.connection());
    } else if (op instanceof KernelOp.Disconnect o) {
      run(List.of("nvme", "disconnect", "-n", o.subsystemNqn()));
    } else {
      throw new KernelException("unsupported operation " + op);
    }
  }

  private void dmsetupWithTable(String verb, String name, List<DmTableLine> table)
      throws IOException, KernelException {
    List<String> lines = new ArrayList<>();
    for (DmTableLine line : table) {
      lines.add(line.start() + " " + line.length() + " " + line.target() + " " + resolveArgs(line.args()));
    }
    if (lines.size() == 1) {
      run(List.of("dmsetup", verb, name, "--table", lines.get(0)));
      return;
    }
    // --table takes exactly one line; several go through a file argument.
    String file = scratchDir + "/toma-table-" + name;
    io.write(file, String.join("\n", lines) + "\n");
    try {
      run(List.of("dmsetup", verb, name, file));
    } finally {
      io.unlink(file);
    }
  }

  /**
   * nvme-cli 2.3 has no flag for fast_io_fail_tmo; with it the connect is the option string
   * written to /dev/nvme-fabrics (kernel-recipes.md). HostIo has no read-back on the same open
   * file: Toma finds the new controller by NQN in /sys afterwards, never by the kernel's answer.
   */
  private void connect(FabricConnection c) throws IOException, KernelException {
    ConnectTimeouts t = c.timeouts();
    if (t.fastIoFail().isPresent()) {
      io.write("/dev/nvme-fabrics", ShellPlan.fabricsOptions(c));
      return;
    }
    run(List.of("nvme", "connect", "-t", c.transport(), "-a", c.address(), "-s",
        Integer.toString(c.serviceId()), "-n", c.subsystemNqn(), "--hostnqn=" + c.hostNqn(),
        "--keep-alive-tmo=" + t.keepAlive(), "--ctrl-loss-tmo=" + t.ctrlLoss(),
        "--reconnect-delay=" + t.reconnectDelay()));
  }

  private String resolveArgs(String args) throws IOException, KernelException {
    List<String> out = new ArrayList<>();
    for (String token : Validation.tokens(args)) {
      out.add(DeviceRef.parse(token).isPresent() ? resolve(token) : token);
    }
    return String.join(" ", out);
  }

  /** A symbolic device reference as the path the kernel needs now. */
  String resolve(String ref) throws IOException, KernelException {
    DeviceRef r = DeviceRef.parse(ref).orElseThrow(() -> new KernelException("not a device: " + ref));
    if (r instanceof DeviceRef.Disk d) {
      String path = diskPaths.get(d.diskId());
      if (path == null) {
        throw new KernelException("disk " + d.diskId() + " is not registered on this node");
      }
      return Validation.devicePath(path);
    } else if (r instanceof DeviceRef.Dm d) {
      return "/dev/mapper/" + d.name();
    } else if (r instanceof DeviceRef.Namespace n) {
      return namespaceDevice(n.uuid());
    }
    return ((DeviceRef.Path) r).path();
  }

  /** Scans /sys/block/nvme*n* (skipping hidden nvmeXcYnZ) for the namespace uuid; no udev. */
  private String namespaceDevice(String uuid) throws IOException, KernelException {
    for (int attempt = 1; attempt <= namespaceWaitAttempts; attempt++) {
      for (String dev : io.list(sys + "/block")) {
        if (HEAD_NODE.matcher(dev).matches() && !HIDDEN_PATH_NODE.matcher(dev).matches()
            && uuid.equalsIgnoreCase(attr(sys + "/block/" + dev + "/uuid"))) {
          return "/dev/" + dev;
        }
      }
      if (attempt < namespaceWaitAttempts) {
        pause(namespaceWaitMillis);
      }
    }
    throw new KernelException("no block device for namespace uuid " + uuid + " (not connected?)");
  }

  // ------------------------------------------------------------------ block devices

  @Override
  public List<BlockDeviceInfo> blockDevices(List<String> devicePaths) throws KernelException {
    List<BlockDeviceInfo> out = new ArrayList<>();
    try {
      for (String path : devicePaths) {
        Validation.devicePath(path);
        Optional<String> name = sysBlockName(path);
        if (name.isEmpty() || !io.exists(path)) {
          out.add(new BlockDeviceInfo(path, 0, false));
          continue;
        }
        long sectors = integerLong(attr(sys + "/class/block/" + name.get() + "/size")).orElse(0L);
        out.add(new BlockDeviceInfo(path, sectors * 512, true));
      }
    } catch (IOException e) {
      throw new KernelException("reading block devices failed: " + e.getMessage(), e);
    }
    return out;
  }

  /** /dev/nullb0 → nullb0; /dev/mapper/NAME → the dm-N whose dm/name is NAME. */
  private Optional<String> sysBlockName(String path) throws IOException {
    if (path.startsWith("/dev/mapper/")) {
      String name = path.substring("/dev/mapper/".length());
      for (String dev : io.list(sys + "/block")) {
        if (dev.startsWith("dm-") && name.equals(attr(sys + "/block/" + dev + "/dm/name"))) {
          return Optional.of(dev);
        }
      }
      return Optional.empty();
    }
    String name = path.substring(path.lastIndexOf('/') + 1);
    return io.exists(sys + "/class/block/" + name) ? Optional.of(name) : Optional.empty();
  }

  // ------------------------------------------------------------------ helpers

  /** Runs on the agent's blocking dispatcher, never on an actor thread. */
  private static void pause(long millis) throws KernelException {
    try {
      Thread.sleep(millis);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new KernelException("interrupted while waiting for a namespace to appear", e);
    }
  }

  private String run(List<String> argv) throws IOException, KernelException {
    HostIo.ExecResult r = io.exec(argv);
    if (!r.ok()) {
      throw new KernelException(String.join(" ", argv) + " exited " + r.exit() + ": "
          + (r.stderr().isBlank() ? r.stdout().trim() : r.stderr().trim()));
    }
    return r.stdout();
  }

  /** An attribute's value without its newline; "" if it does not exist. */
  private String attr(String path) {
    try {
      return io.read(path).trim();
    } catch (IOException e) {
      return "";
    }
  }

  private String host(String nqn) {
    return nvmet + "/hosts/" + nqn;
  }

  private String sub(String nqn) {
    return nvmet + "/subsystems/" + nqn;
  }

  private String port(int portId) {
    return nvmet + "/ports/" + portId;
  }

  private static Optional<AnaState> anaState(String word) {
    for (AnaState s : AnaState.values()) {
      if (s.kernelName().equals(word)) {
        return Optional.of(s);
      }
    }
    return Optional.empty();
  }

  private static Optional<Integer> integer(String s) {
    try {
      return Optional.of(Integer.parseInt(s.trim()));
    } catch (NumberFormatException e) {
      return Optional.empty();
    }
  }

  private static Optional<Long> integerLong(String s) {
    try {
      return Optional.of(Long.parseLong(s.trim()));
    } catch (NumberFormatException e) {
      return Optional.empty();
    }
  }

  /** For tests and tools: the names Toma would look for. */
  static Set<String> headNodes(List<String> names) {
    Set<String> out = new TreeSet<>();
    for (String n : names) {
      if (HEAD_NODE.matcher(n).matches() && !HIDDEN_PATH_NODE.matcher(n).matches()) {
        out.add(n);
      }
    }
    return out;
  }
}
