package io.toma.kernel.sim;

import io.toma.kernel.DesiredState.AnaState;
import io.toma.kernel.DesiredState.FabricConnection;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.TreeSet;

/**
 * The nvmet targets of this process's simulated nodes, as a host in another process reaches them
 * through a transport ({@code kernel.sim.wire}). Every call must hold {@link SimCluster#clock()}'s
 * monitor, the simulation's one lock.
 *
 * <p>One rule is stricter than the in-process fabric: an established association whose host NQN
 * was revoked from the subsystem's allowed hosts is lost at its next command (see
 * {@link #associationLost}). That is the fence a disk node raises against an old controller in
 * another process: its I/O stops, and its reconnects are refused.
 */
public final class FabricExports {

  /** A namespace as a host discovers it, with what the target advertises now. */
  public record ExportedNamespace(int nsid, String uuid, long sizeBytes, AnaState ana) {}

  /** One entry of a discovery log page: a subsystem the host may connect to, and where. */
  public record DiscoveryEntry(String subsystemNqn, String transport, String address, int serviceId) {}

  /**
   * nvme discover at {@code address}: every subsystem that allows {@code hostNqn}, on every
   * listening port of that node that exports it.
   */
  public List<DiscoveryEntry> discover(String address, String hostNqn) {
    List<DiscoveryEntry> entries = new ArrayList<>();
    fabric.byAddress(address).filter(SimNode::isUp).ifPresent(node -> {
      for (NvmetTarget.Port port : node.twin().nvmet().ports()) {
        if (!port.listening()) {
          continue;
        }
        for (String nqn : port.subsystems) {
          node.twin().nvmet().subsystem(nqn).filter(s -> s.allowedHosts.contains(hostNqn)).ifPresent(s ->
              entries.add(new DiscoveryEntry(nqn, port.transport, address, port.serviceId)));
        }
      }
    });
    return entries;
  }

  /** The outcome of a connect from another process. */
  public sealed interface ConnectAnswer {}

  public record Accepted(int cntlid, List<ExportedNamespace> namespaces) implements ConnectAnswer {
    public Accepted {
      namespaces = List.copyOf(namespaces);
    }
  }

  /** {@code why} in the kernel's words, as nvme connect prints them. */
  public record Refused(String why) implements ConnectAnswer {}

  private final SimCluster cluster;
  private final SimFabric fabric;
  /** Controller ids held by associations from other processes, as "subsystem/address/cntlid". */
  private final Set<String> remoteCntlids = new TreeSet<>();

  FabricExports(SimCluster cluster, SimFabric fabric) {
    this.cluster = cluster;
    this.fabric = fabric;
  }

  /** The monitor every call must hold. */
  public Object lock() {
    return cluster.lock();
  }

  private Optional<SimNode> target(FabricConnection c) {
    return fabric.byAddress(c.address()).filter(SimNode::isUp);
  }

  private Optional<NvmetTarget.Port> port(SimNode node, FabricConnection c) {
    return node.twin().nvmet().listeningPort(c.transport(), c.address(), false, c.serviceId());
  }

  /** nvme connect from another process: checks the port, the subsystem and the allowed hosts now. */
  public ConnectAnswer connect(FabricConnection c) {
    Optional<SimNode> node = target(c);
    if (node.isEmpty()) {
      return new Refused("Connection refused");
    }
    Optional<NvmetTarget.Port> port = port(node.get(), c);
    if (port.isEmpty()) {
      return new Refused("Connection refused");
    }
    Optional<NvmetTarget.Subsystem> subsystem = node.get().twin().nvmet().subsystem(c.subsystemNqn());
    if (!port.get().subsystems.contains(c.subsystemNqn()) || subsystem.isEmpty()
        || !subsystem.get().allowedHosts.contains(c.hostNqn())) {
      return new Refused("Input/output error");
    }
    Set<Integer> used = new TreeSet<>();
    for (SimNode host : cluster.nodes()) {
      if (host.isUp()) {
        host.twin().host().liveAssociations().stream()
            .filter(a -> a.connection().subsystemNqn().equals(c.subsystemNqn())
                && a.connection().address().equals(c.address()))
            .forEach(a -> used.add(a.cntlid()));
      }
    }
    for (int id = subsystem.get().cntlidLow(); id <= subsystem.get().cntlidHigh(); id++) {
      if (!used.contains(id) && !remoteCntlids.contains(cntlidKey(c, id))) {
        remoteCntlids.add(cntlidKey(c, id));
        return new Accepted(id, namespaces(c));
      }
    }
    return new Refused("Input/output error (no free cntlid)");
  }

  /** The association from another process ended: its controller id is free again. */
  public void release(FabricConnection c, int cntlid) {
    remoteCntlids.remove(cntlidKey(c, cntlid));
  }

  private static String cntlidKey(FabricConnection c, int cntlid) {
    return c.subsystemNqn() + "/" + c.address() + ":" + c.serviceId() + "/" + cntlid;
  }

  /**
   * Why an established association is gone, if it is: node down, port no longer listening or the
   * subsystem unlinked or removed, or the host NQN no longer allowed (the fence).
   */
  public Optional<String> associationLost(FabricConnection c) {
    Optional<SimNode> node = target(c);
    if (node.isEmpty()) {
      return Optional.of("target node down");
    }
    Optional<NvmetTarget.Port> port = port(node.get(), c);
    Optional<NvmetTarget.Subsystem> subsystem = node.get().twin().nvmet().subsystem(c.subsystemNqn());
    if (port.isEmpty() || !port.get().subsystems.contains(c.subsystemNqn()) || subsystem.isEmpty()) {
      return Optional.of("subsystem " + c.subsystemNqn() + " no longer exported");
    }
    if (!subsystem.get().allowedHosts.contains(c.hostNqn())) {
      return Optional.of("host " + c.hostNqn() + " no longer allowed on " + c.subsystemNqn() + " (fenced)");
    }
    return Optional.empty();
  }

  /** The namespaces with their advertised size and the port's ANA state for their group. */
  public List<ExportedNamespace> namespaces(FabricConnection c) {
    List<ExportedNamespace> namespaces = new ArrayList<>();
    target(c).ifPresent(node -> port(node, c).ifPresent(port ->
        node.twin().nvmet().subsystem(c.subsystemNqn()).ifPresent(s -> s.namespaces.values().forEach(ns ->
            namespaces.add(new ExportedNamespace(ns.nsid, ns.deviceUuid, ns.sizeBytes, port.anaState(ns.anaGroupId)))))));
    return namespaces;
  }

  public IoResult read(FabricConnection c, int nsid, long offset, int length) {
    return refuseIo(c, nsid, offset, length).orElseGet(() -> namespace(c, nsid).get().device.read(offset, length));
  }

  public IoResult write(FabricConnection c, int nsid, long offset, byte[] data) {
    return refuseIo(c, nsid, offset, data.length)
        .orElseGet(() -> namespace(c, nsid).get().device.write(offset, data));
  }

  public long nextData(FabricConnection c, int nsid, long from) {
    return namespace(c, nsid).map(ns -> Math.max(from, ns.device.nextData(from))).orElse(from);
  }

  private Optional<NvmetTarget.Namespace> namespace(FabricConnection c, int nsid) {
    return target(c).flatMap(node -> node.twin().nvmet().subsystem(c.subsystemNqn()))
        .flatMap(s -> Optional.ofNullable(s.namespaces.get(nsid)));
  }

  /** As the in-process fabric refuses I/O; the caller checked {@link #associationLost} first. */
  private Optional<IoResult> refuseIo(FabricConnection c, int nsid, long offset, long length) {
    Optional<NvmetTarget.Namespace> ns = namespace(c, nsid);
    if (ns.isEmpty()) {
      return Optional.of(new IoResult.Error("namespace " + nsid + " of " + c.subsystemNqn() + " is gone"));
    }
    AnaState ana = target(c).flatMap(node -> port(node, c)).map(p -> p.anaState(ns.get().anaGroupId))
        .orElse(AnaState.INACCESSIBLE);
    if (ana != AnaState.OPTIMIZED && ana != AnaState.NON_OPTIMIZED) {
      return Optional.of(new IoResult.Retry("ANA state " + ana.kernelName() + ": requeuing I/O"));
    }
    if (offset + length > ns.get().sizeBytes) {
      return Optional.of(new IoResult.Error("access beyond end of namespace"));
    }
    return Optional.empty();
  }
}
