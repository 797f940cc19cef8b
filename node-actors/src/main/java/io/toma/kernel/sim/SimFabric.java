package io.toma.kernel.sim;

import io.toma.kernel.DesiredState.AnaState;
import io.toma.kernel.DesiredState.FabricConnection;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalInt;
import java.util.Set;
import java.util.TreeSet;

/**
 * The network between simulated nodes, for NVMe-oF over TCP: an address names a node, a
 * (node, service id) names a listening nvmet port. Links are cut and healed per ordered pair of
 * nodes (asymmetric cuts allowed); a TCP association needs both directions, so it breaks when
 * either is cut. 127.0.0.1 reaches the connecting node itself.
 */
public final class SimFabric implements FabricEndpoint {
  private static final String LOOPBACK = "127.0.0.1";

  private final Map<String, SimNode> nodes = new LinkedHashMap<>();
  private final Set<String> cut = new TreeSet<>();

  void add(SimNode node) {
    for (SimNode other : nodes.values()) {
      if (other.fabricAddress().equals(node.fabricAddress())) {
        throw new IllegalArgumentException("address " + node.fabricAddress() + " already used by " + other.id());
      }
    }
    nodes.put(node.id(), node);
  }

  /** Whether packets from {@code from} reach {@code to} (a node always reaches itself). */
  public boolean canReach(String from, String to) {
    return from.equals(to) || !cut.contains(from + "->" + to);
  }

  void cut(String from, String to) {
    cut.add(from + "->" + to);
  }

  void heal(String from, String to) {
    cut.remove(from + "->" + to);
  }

  private record Reach(SimNode target, NvmetTarget.Port port) {}

  /** Finds the listening port behind a connection, or why it cannot be reached (errno text). */
  private Result<Reach> reach(String fromNode, FabricConnection c) {
    SimNode from = nodes.get(fromNode);
    SimNode target = c.address().equals(LOOPBACK) ? from : byAddress(c.address()).orElse(null);
    if (from == null || target == null) {
      return Result.refused("No route to host");
    }
    if (!target.isUp() || !canReach(from.id(), target.id()) || !canReach(target.id(), from.id())) {
      return Result.refused("Connection timed out");
    }
    Optional<NvmetTarget.Port> port = target.twin().nvmet()
        .listeningPort(c.transport(), c.address(), target == from, c.serviceId());
    return port.map(p -> Result.of(new Reach(target, p))).orElseGet(() -> Result.refused("Connection refused"));
  }

  /** Whether a connection to {@code address} stays in this process (a node here, or loopback). */
  boolean servesAddress(String address) {
    return address.equals(LOOPBACK) || byAddress(address).isPresent();
  }

  Optional<SimNode> byAddress(String address) {
    return nodes.values().stream().filter(n -> n.fabricAddress().equals(address)).findFirst();
  }

  private record Result<T>(Optional<T> value, String refusal) {
    static <T> Result<T> of(T value) {
      return new Result<>(Optional.of(value), "");
    }

    static <T> Result<T> refused(String why) {
      return new Result<>(Optional.empty(), why);
    }
  }

  @Override
  public Optional<String> connectRefusal(String fromNode, FabricConnection c) {
    Result<Reach> reach = reach(fromNode, c);
    if (reach.value().isEmpty()) {
      return Optional.of(reach.refusal());
    }
    Reach r = reach.value().get();
    Optional<NvmetTarget.Subsystem> subsystem = r.target().twin().nvmet().subsystem(c.subsystemNqn());
    if (!r.port().subsystems.contains(c.subsystemNqn()) || subsystem.isEmpty()
        || !subsystem.get().allowedHosts.contains(c.hostNqn())) {
      return Optional.of("Input/output error");
    }
    return Optional.empty();
  }

  @Override
  public boolean associationUp(String fromNode, FabricConnection c) {
    return exported(fromNode, c).isPresent();
  }

  private Optional<NvmetTarget.Subsystem> exported(String fromNode, FabricConnection c) {
    return reach(fromNode, c).value()
        .filter(r -> r.port().subsystems.contains(c.subsystemNqn()))
        .flatMap(r -> r.target().twin().nvmet().subsystem(c.subsystemNqn()));
  }

  @Override
  public OptionalInt allocateCntlid(String fromNode, FabricConnection c) {
    Optional<Reach> reach = reach(fromNode, c).value();
    if (reach.isEmpty()) {
      return OptionalInt.empty();
    }
    SimNode target = reach.get().target();
    Optional<NvmetTarget.Subsystem> subsystem = target.twin().nvmet().subsystem(c.subsystemNqn());
    if (subsystem.isEmpty()) {
      return OptionalInt.empty();
    }
    Set<Integer> used = new TreeSet<>();
    for (SimNode host : nodes.values()) {
      if (!host.isUp()) {
        continue;
      }
      for (NvmeHostSide.Association a : host.twin().host().liveAssociations()) {
        Optional<Reach> other = reach(host.id(), a.connection()).value();
        if (a.connection().subsystemNqn().equals(c.subsystemNqn()) && other.isPresent()
            && other.get().target() == target) {
          used.add(a.cntlid());
        }
      }
    }
    for (int id = subsystem.get().cntlidLow(); id <= subsystem.get().cntlidHigh(); id++) {
      if (!used.contains(id)) {
        return OptionalInt.of(id);
      }
    }
    return OptionalInt.empty();
  }

  @Override
  public List<RemoteNamespace> namespaces(String fromNode, FabricConnection c) {
    List<RemoteNamespace> namespaces = new ArrayList<>();
    exported(fromNode, c).ifPresent(s -> s.namespaces.values()
        .forEach(ns -> namespaces.add(new RemoteNamespace(ns.nsid, ns.deviceUuid))));
    return namespaces;
  }

  private Optional<NvmetTarget.Namespace> namespace(String fromNode, FabricConnection c, int nsid) {
    return exported(fromNode, c).flatMap(s -> Optional.ofNullable(s.namespaces.get(nsid)));
  }

  @Override
  public Optional<AnaState> anaState(String fromNode, FabricConnection c, int nsid) {
    Optional<Reach> reach = reach(fromNode, c).value();
    return namespace(fromNode, c, nsid).flatMap(ns -> reach.map(r -> r.port().anaState(ns.anaGroupId)));
  }

  @Override
  public Optional<Long> namespaceSize(String fromNode, FabricConnection c, int nsid) {
    return namespace(fromNode, c, nsid).map(ns -> ns.sizeBytes);
  }

  private Optional<IoResult> refuseIo(String fromNode, FabricConnection c, int nsid, long offset, long length) {
    if (exported(fromNode, c).isEmpty()) {
      return Optional.of(new IoResult.Retry("path to " + c.subsystemNqn() + " lost: requeuing I/O"));
    }
    Optional<NvmetTarget.Namespace> ns = namespace(fromNode, c, nsid);
    if (ns.isEmpty()) {
      return Optional.of(new IoResult.Error("namespace " + nsid + " of " + c.subsystemNqn() + " is gone"));
    }
    AnaState ana = anaState(fromNode, c, nsid).orElse(AnaState.INACCESSIBLE);
    if (ana != AnaState.OPTIMIZED && ana != AnaState.NON_OPTIMIZED) {
      return Optional.of(new IoResult.Retry("ANA state " + ana.kernelName() + ": requeuing I/O"));
    }
    if (offset + length > ns.get().sizeBytes) {
      return Optional.of(new IoResult.Error("access beyond end of namespace"));
    }
    return Optional.empty();
  }

  @Override
  public IoResult read(String fromNode, FabricConnection c, int nsid, long offset, int length) {
    return refuseIo(fromNode, c, nsid, offset, length)
        .orElseGet(() -> namespace(fromNode, c, nsid).get().device.read(offset, length));
  }

  @Override
  public IoResult write(String fromNode, FabricConnection c, int nsid, long offset, byte[] data) {
    return refuseIo(fromNode, c, nsid, offset, data.length)
        .orElseGet(() -> namespace(fromNode, c, nsid).get().device.write(offset, data));
  }

  @Override
  public long nextData(String fromNode, FabricConnection c, int nsid, long from) {
    return namespace(fromNode, c, nsid).map(ns -> Math.max(from, ns.device.nextData(from))).orElse(from);
  }
}
