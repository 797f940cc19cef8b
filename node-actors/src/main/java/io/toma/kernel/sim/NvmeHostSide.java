package io.toma.kernel.sim;

import io.toma.kernel.DesiredState.AnaState;
import io.toma.kernel.DesiredState.FabricConnection;
import io.toma.kernel.KernelException;
import io.toma.kernel.KernelState.ControllerState;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalInt;
import java.util.OptionalLong;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;

/**
 * The NVMe-oF host side of one simulated kernel, with native multipath (nvme_core.multipath=Y):
 * controllers {@code nvmeN} grouped by subsystem NQN, one head block device
 * {@code /dev/nvme<S>n<nsid>} per namespace, where S is the subsystem's instance (that of its
 * first controller); instance numbers are reused, lowest free first, as the kernel's ida does.
 *
 * <p>Link loss (keep-alive is the link state): the controller goes {@code connecting}, retries
 * every reconnect_delay and is deleted once ctrl_loss_tmo has passed. I/O on a head goes to a
 * live path whose ANA state is optimized (else non-optimized); with no usable path it is requeued
 * ({@link IoResult.Retry}) while some path may come back, and failed once no path can (every
 * controller gone or past fast_io_fail_tmo).
 */
final class NvmeHostSide {

  private static final long SECOND = 1_000_000_000L;

  final class Controller {
    final int instance;
    final FabricConnection connection;
    final HostSubsystem subsystem;
    String state = "live";
    int cntlid;
    long connectingSince;
    long nextReconnect;

    Controller(int instance, FabricConnection connection, HostSubsystem subsystem, int cntlid) {
      this.instance = instance;
      this.connection = connection;
      this.subsystem = subsystem;
      this.cntlid = cntlid;
    }

    boolean live() {
      return state.equals("live");
    }

    /** Still worth waiting for: connecting and not yet past fast_io_fail_tmo. */
    boolean mayComeBack(long now) {
      if (live()) {
        return true;
      }
      Optional<Integer> fastIoFail = connection.timeouts().fastIoFail();
      return fastIoFail.isEmpty() || now < connectingSince + fastIoFail.get() * SECOND;
    }

    Optional<AnaState> anaState(int nsid) {
      return live() ? fabric.anaState(nodeId, connection, nsid) : Optional.empty();
    }
  }

  final class HostSubsystem {
    final String nqn;
    final int instance;
    final TreeMap<Integer, Controller> controllers = new TreeMap<>();
    final TreeMap<Integer, Head> heads = new TreeMap<>();

    HostSubsystem(String nqn, int instance) {
      this.nqn = nqn;
      this.instance = instance;
    }
  }

  /** The multipath head: the block device the host uses (e.g. /dev/nvme2n1). */
  final class Head implements SimBlockDevice {
    final HostSubsystem subsystem;
    final int nsid;
    final String uuid;
    final int minor;
    long lastKnownSize;
    boolean gone;

    Head(HostSubsystem subsystem, int nsid, String uuid, int minor) {
      this.subsystem = subsystem;
      this.nsid = nsid;
      this.uuid = uuid;
      this.minor = minor;
    }

    String path() {
      return "/dev/nvme" + subsystem.instance + "n" + nsid;
    }

    String majorMinor() {
      return "259:" + minor;
    }

    /** The path I/O goes to now, as the numa iopolicy picks it. */
    Optional<Controller> currentPath() {
      if (gone) {
        return Optional.empty();
      }
      for (AnaState wanted : List.of(AnaState.OPTIMIZED, AnaState.NON_OPTIMIZED)) {
        for (Controller controller : subsystem.controllers.values()) {
          if (controller.anaState(nsid).filter(wanted::equals).isPresent()) {
            return Optional.of(controller);
          }
        }
      }
      return Optional.empty();
    }

    private Optional<IoResult> noPath() {
      if (currentPath().isPresent()) {
        return Optional.empty();
      }
      long now = clock.nowNanos();
      // A live path whose target dropped the namespace does not count: the kernel removes the
      // namespace from that path (and the head once no path has it), so I/O fails.
      boolean waitable = !gone && subsystem.controllers.values().stream().anyMatch(c -> c.live()
          ? fabric.namespaceSize(nodeId, c.connection, nsid).isPresent()
          : c.mayComeBack(now));
      return Optional.of(waitable
          ? new IoResult.Retry(path() + ": no usable path - requeuing I/O")
          : new IoResult.Error(path() + ": no available path - failing I/O"));
    }

    @Override
    public long sizeBytes() {
      currentPath().flatMap(c -> fabric.namespaceSize(nodeId, c.connection, nsid))
          .ifPresent(size -> lastKnownSize = size);
      return lastKnownSize;
    }

    @Override
    public IoResult read(long offset, int length) {
      Optional<IoResult> refused = noPath();
      if (refused.isPresent()) {
        return refused.get();
      }
      var range = SimBlockDevice.outOfRange(this, offset, length);
      if (range.isPresent()) {
        return range.get();
      }
      return fabric.read(nodeId, currentPath().get().connection, nsid, offset, length);
    }

    @Override
    public IoResult write(long offset, byte[] data) {
      Optional<IoResult> refused = noPath();
      if (refused.isPresent()) {
        return refused.get();
      }
      var range = SimBlockDevice.outOfRange(this, offset, data.length);
      if (range.isPresent()) {
        return range.get();
      }
      return fabric.write(nodeId, currentPath().get().connection, nsid, offset, data);
    }

    @Override
    public long nextData(long from) {
      Optional<Controller> path = currentPath();
      return path.isEmpty() ? from : fabric.nextData(nodeId, path.get().connection, nsid, from);
    }
  }

  private final String nodeId;
  private final FabricEndpoint fabric;
  private final SimClock clock;
  private final TreeMap<Integer, Controller> controllers = new TreeMap<>();
  private final Map<String, HostSubsystem> subsystems = new LinkedHashMap<>();

  NvmeHostSide(String nodeId, FabricEndpoint fabric, SimClock clock) {
    this.nodeId = nodeId;
    this.fabric = fabric;
    this.clock = clock;
  }

  void connect(FabricConnection connection) throws KernelException {
    for (Controller existing : controllers.values()) {
      FabricConnection c = existing.connection;
      if (c.subsystemNqn().equals(connection.subsystemNqn()) && c.address().equals(connection.address())
          && c.serviceId() == connection.serviceId() && c.hostNqn().equals(connection.hostNqn())
          && c.transport().equals(connection.transport())) {
        throw new KernelException("Failed to write to /dev/nvme-fabrics: Operation already in progress");
      }
    }
    Optional<String> refusal = fabric.connectRefusal(nodeId, connection);
    if (refusal.isPresent()) {
      throw new KernelException("Failed to write to /dev/nvme-fabrics: " + refusal.get());
    }
    OptionalInt cntlid = fabric.allocateCntlid(nodeId, connection);
    if (cntlid.isEmpty()) {
      throw new KernelException("Failed to write to /dev/nvme-fabrics: Input/output error (no free cntlid)");
    }
    HostSubsystem subsystem = subsystems.get(connection.subsystemNqn());
    if (subsystem != null && duplicateCntlid(subsystem, cntlid.getAsInt())) {
      throw new KernelException("Failed to write to /dev/nvme-fabrics: Invalid argument (Duplicate cntlid "
          + cntlid.getAsInt() + " with " + connection.subsystemNqn() + ", subsys " + subsystem.instance
          + ", rejecting)");
    }
    int instance = freeInstance();
    if (subsystem == null) {
      subsystem = new HostSubsystem(connection.subsystemNqn(), instance);
      subsystems.put(subsystem.nqn, subsystem);
    }
    Controller controller = new Controller(instance, connection, subsystem, cntlid.getAsInt());
    controllers.put(instance, controller);
    subsystem.controllers.put(instance, controller);
    discoverNamespaces(controller);
  }

  /** nvme disconnect -n NQN: every controller of that subsystem; none is not an error. */
  void disconnect(String subsystemNqn) {
    HostSubsystem subsystem = subsystems.get(subsystemNqn);
    if (subsystem == null) {
      return;
    }
    for (Controller controller : List.copyOf(subsystem.controllers.values())) {
      delete(controller);
    }
  }

  private boolean duplicateCntlid(HostSubsystem subsystem, int cntlid) {
    return subsystem.controllers.values().stream().anyMatch(c -> c.live() && c.cntlid == cntlid);
  }

  private int freeInstance() {
    Set<Integer> used = new TreeSet<>(controllers.keySet());
    subsystems.values().forEach(s -> used.add(s.instance));
    int instance = 0;
    while (used.contains(instance)) {
      instance++;
    }
    return instance;
  }

  private int freeHeadMinor() {
    Set<Integer> used = new TreeSet<>();
    subsystems.values().forEach(s -> s.heads.values().forEach(h -> used.add(h.minor)));
    int minor = 0;
    while (used.contains(minor)) {
      minor++;
    }
    return minor;
  }

  private void discoverNamespaces(Controller controller) {
    for (FabricEndpoint.RemoteNamespace ns : fabric.namespaces(nodeId, controller.connection)) {
      HostSubsystem subsystem = controller.subsystem;
      if (!subsystem.heads.containsKey(ns.nsid())) {
        Head head = new Head(subsystem, ns.nsid(), ns.uuid(), freeHeadMinor());
        fabric.namespaceSize(nodeId, controller.connection, ns.nsid()).ifPresent(s -> head.lastKnownSize = s);
        subsystem.heads.put(ns.nsid(), head);
      }
    }
  }

  private void delete(Controller controller) {
    fabric.disconnected(nodeId, controller.connection);
    controllers.remove(controller.instance);
    HostSubsystem subsystem = controller.subsystem;
    subsystem.controllers.remove(controller.instance);
    if (subsystem.controllers.isEmpty()) {
      subsystem.heads.values().forEach(head -> head.gone = true); // a holder sees I/O errors
      subsystems.remove(subsystem.nqn);
    }
  }

  /** Notices associations that broke (link cut, target gone or unlinked): live → connecting. */
  void checkAssociations(long now) {
    for (Controller controller : controllers.values()) {
      if (controller.live() && !fabric.associationUp(nodeId, controller.connection)) {
        controller.state = "connecting";
        controller.connectingSince = now;
        controller.nextReconnect = now + reconnectDelay(controller);
      }
    }
  }

  private static long reconnectDelay(Controller controller) {
    return Math.max(1, controller.connection.timeouts().reconnectDelay()) * SECOND;
  }

  OptionalLong nextDeadlineNanos() {
    long earliest = Long.MAX_VALUE;
    for (Controller controller : controllers.values()) {
      if (controller.live()) {
        continue;
      }
      earliest = Math.min(earliest, controller.nextReconnect);
      int ctrlLoss = controller.connection.timeouts().ctrlLoss();
      if (ctrlLoss >= 0) {
        earliest = Math.min(earliest, controller.connectingSince + ctrlLoss * SECOND);
      }
    }
    return earliest == Long.MAX_VALUE ? OptionalLong.empty() : OptionalLong.of(earliest);
  }

  void onTime(long now) {
    for (Controller controller : List.copyOf(controllers.values())) {
      if (controller.live()) {
        continue;
      }
      if (now >= controller.nextReconnect) {
        if (tryReconnect(controller)) {
          continue;
        }
        while (controller.nextReconnect <= now) {
          controller.nextReconnect += reconnectDelay(controller);
        }
      }
      int ctrlLoss = controller.connection.timeouts().ctrlLoss();
      if (ctrlLoss >= 0 && now >= controller.connectingSince + ctrlLoss * SECOND) {
        delete(controller);
      }
    }
  }

  private boolean tryReconnect(Controller controller) {
    if (fabric.connectRefusal(nodeId, controller.connection).isPresent()) {
      return false;
    }
    OptionalInt cntlid = fabric.allocateCntlid(nodeId, controller.connection);
    if (cntlid.isEmpty() || duplicateCntlid(controller.subsystem, cntlid.getAsInt())) {
      return false;
    }
    controller.cntlid = cntlid.getAsInt();
    controller.state = "live";
    discoverNamespaces(controller);
    return true;
  }

  /** Head devices by path, for the kernel's device lookup. */
  Map<String, Head> headsByPath() {
    Map<String, Head> heads = new LinkedHashMap<>();
    subsystems.values().forEach(s -> s.heads.values().forEach(h -> heads.put(h.path(), h)));
    return heads;
  }

  Optional<Head> head(String subsystemNqn, int nsid) {
    return Optional.ofNullable(subsystems.get(subsystemNqn)).map(s -> s.heads.get(nsid));
  }

  record Association(FabricConnection connection, int cntlid) {}

  /** Live controllers and their cntlids, for the fabric's controller id allocation. */
  List<Association> liveAssociations() {
    List<Association> associations = new ArrayList<>();
    for (Controller controller : controllers.values()) {
      if (controller.live()) {
        associations.add(new Association(controller.connection, controller.cntlid));
      }
    }
    return associations;
  }

  List<ControllerState> controllerStates() {
    List<ControllerState> states = new ArrayList<>();
    for (Controller c : controllers.values()) {
      Map<String, String> devices = new LinkedHashMap<>();
      c.subsystem.heads.values().forEach(h -> devices.put(h.uuid, h.path()));
      states.add(new ControllerState("nvme" + c.instance, c.subsystem.nqn, c.connection.address(),
          c.connection.serviceId(), c.connection.hostNqn(), c.state, devices));
    }
    return states;
  }

  /** Which controller each subsystem's I/O goes to now (like `nvme list-subsys`), for tests and tools. */
  Map<String, String> activePaths() {
    Map<String, String> paths = new LinkedHashMap<>();
    for (HostSubsystem s : subsystems.values()) {
      s.heads.values().stream().findFirst().flatMap(Head::currentPath)
          .ifPresent(c -> paths.put(s.nqn, "nvme" + c.instance));
    }
    return paths;
  }
}
