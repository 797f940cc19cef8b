package io.toma.kernel.sim;

import io.toma.kernel.DesiredState.AnaState;
import io.toma.kernel.KernelException;
import io.toma.kernel.KernelState.NamespaceState;
import io.toma.kernel.KernelState.PortState;
import io.toma.kernel.KernelState.SubsystemState;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeMap;

/**
 * The nvmet configfs tree of one simulated kernel: hosts, subsystems (attr_allow_any_host is
 * always 0), namespaces, ports with ANA groups, port-subsystem links. Refusals carry configfs'
 * own words (kernel-recipes.md, "Removal order").
 */
final class NvmetTarget {

  static final int DEFAULT_ANA_GROUP = 1;
  static final int MAX_ANA_GROUP = 128;

  static final class Subsystem {
    final String nqn;
    final Optional<Integer> cntlidMin;
    final Optional<Integer> cntlidMax;
    final Set<String> allowedHosts = new LinkedHashSet<>();
    final TreeMap<Integer, Namespace> namespaces = new TreeMap<>();

    Subsystem(String nqn, Optional<Integer> cntlidMin, Optional<Integer> cntlidMax) {
      this.nqn = nqn;
      this.cntlidMin = cntlidMin;
      this.cntlidMax = cntlidMax;
    }

    int cntlidLow() {
      return cntlidMin.orElse(1);
    }

    int cntlidHigh() {
      return cntlidMax.orElse(0xffef);
    }
  }

  static final class Namespace {
    final int nsid;
    final String devicePath;
    final String deviceUuid;
    final int anaGroupId;
    final SimBlockDevice device;
    long sizeBytes; // what the target advertises; refreshed by revalidate_size only

    Namespace(int nsid, String devicePath, String deviceUuid, int anaGroupId, SimBlockDevice device) {
      this.nsid = nsid;
      this.devicePath = devicePath;
      this.deviceUuid = deviceUuid;
      this.anaGroupId = anaGroupId;
      this.device = device;
      this.sizeBytes = device.sizeBytes();
    }
  }

  static final class Port {
    final int id;
    final String transport;
    final String addressFamily;
    final String address;
    final int serviceId;
    final TreeMap<Integer, AnaState> anaGroups = new TreeMap<>(Map.of(DEFAULT_ANA_GROUP, AnaState.OPTIMIZED));
    final Set<String> subsystems = new LinkedHashSet<>();

    Port(int id, String transport, String addressFamily, String address, int serviceId) {
      this.id = id;
      this.transport = transport;
      this.addressFamily = addressFamily;
      this.address = address;
      this.serviceId = serviceId;
    }

    /** nvmet listens on a port only while at least one subsystem is linked to it. */
    boolean listening() {
      return !subsystems.isEmpty();
    }

    /** nvmet's view of a group this port has no directory for: inaccessible. */
    AnaState anaState(int group) {
      return anaGroups.getOrDefault(group, AnaState.INACCESSIBLE);
    }
  }

  private final Set<String> hosts = new LinkedHashSet<>();
  private final Map<String, Subsystem> subsystems = new LinkedHashMap<>();
  private final TreeMap<Integer, Port> ports = new TreeMap<>();

  Optional<Subsystem> subsystem(String nqn) {
    return Optional.ofNullable(subsystems.get(nqn));
  }

  List<Port> ports() {
    return List.copyOf(ports.values());
  }

  /** Devices the enabled namespaces hold open. */
  List<SimBlockDevice> heldDevices() {
    List<SimBlockDevice> held = new ArrayList<>();
    subsystems.values().forEach(s -> s.namespaces.values().forEach(ns -> held.add(ns.device)));
    return held;
  }

  void createHost(String nqn) throws KernelException {
    if (!hosts.add(nqn)) {
      throw refused("mkdir hosts/" + nqn, "File exists");
    }
  }

  void removeHost(String nqn) throws KernelException {
    if (!hosts.contains(nqn)) {
      throw refused("rmdir hosts/" + nqn, "No such file or directory");
    }
    for (Subsystem subsystem : subsystems.values()) {
      if (subsystem.allowedHosts.contains(nqn)) {
        throw refused("rmdir hosts/" + nqn, "Device or resource busy");
      }
    }
    hosts.remove(nqn);
  }

  void createSubsystem(String nqn, Optional<Integer> cntlidMin, Optional<Integer> cntlidMax)
      throws KernelException {
    if (subsystems.containsKey(nqn)) {
      throw refused("mkdir subsystems/" + nqn, "File exists");
    }
    if (cntlidMin.orElse(1) < 1 || cntlidMax.orElse(0xffef) > 0xffef || cntlidMin.orElse(1) > cntlidMax.orElse(0xffef)) {
      throw refused("write subsystems/" + nqn + "/attr_cntlid_min", "Invalid argument");
    }
    subsystems.put(nqn, new Subsystem(nqn, cntlidMin, cntlidMax));
  }

  void removeSubsystem(String nqn) throws KernelException {
    Subsystem subsystem = existing(nqn, "rmdir subsystems/" + nqn);
    for (Port port : ports.values()) {
      if (port.subsystems.contains(nqn)) {
        throw refused("rmdir subsystems/" + nqn, "Device or resource busy");
      }
    }
    if (!subsystem.namespaces.isEmpty() || !subsystem.allowedHosts.isEmpty()) {
      throw refused("rmdir subsystems/" + nqn, "Directory not empty");
    }
    subsystems.remove(nqn);
  }

  void allowHost(String nqn, String hostNqn) throws KernelException {
    String what = "ln -s hosts/" + hostNqn + " subsystems/" + nqn + "/allowed_hosts/";
    Subsystem subsystem = existing(nqn, what);
    if (!hosts.contains(hostNqn)) {
      throw refused(what, "No such file or directory");
    }
    if (!subsystem.allowedHosts.add(hostNqn)) {
      throw refused(what, "File exists");
    }
  }

  /** Only future connects are refused: existing controllers of that host keep running. */
  void disallowHost(String nqn, String hostNqn) throws KernelException {
    String what = "rm subsystems/" + nqn + "/allowed_hosts/" + hostNqn;
    if (!existing(nqn, what).allowedHosts.remove(hostNqn)) {
      throw refused(what, "No such file or directory");
    }
  }

  void createNamespace(String nqn, int nsid, String devicePath, String uuid, int anaGroupId, SimBlockDevice device)
      throws KernelException {
    String what = "mkdir subsystems/" + nqn + "/namespaces/" + nsid;
    Subsystem subsystem = existing(nqn, what);
    if (nsid < 1 || anaGroupId < 1 || anaGroupId > MAX_ANA_GROUP) {
      throw refused(what, "Invalid argument");
    }
    if (subsystem.namespaces.containsKey(nsid)) {
      throw refused(what, "File exists");
    }
    for (Namespace other : subsystem.namespaces.values()) {
      if (other.deviceUuid.equalsIgnoreCase(uuid)) {
        throw refused("enable subsystems/" + nqn + "/namespaces/" + nsid, "Invalid argument");
      }
    }
    subsystem.namespaces.put(nsid, new Namespace(nsid, devicePath, uuid, anaGroupId, device));
  }

  void removeNamespace(String nqn, int nsid) throws KernelException {
    String what = "rmdir subsystems/" + nqn + "/namespaces/" + nsid;
    if (existing(nqn, what).namespaces.remove(nsid) == null) {
      throw refused(what, "No such file or directory");
    }
  }

  void revalidate(String nqn, int nsid) throws KernelException {
    String what = "write subsystems/" + nqn + "/namespaces/" + nsid + "/revalidate_size";
    Namespace namespace = existing(nqn, what).namespaces.get(nsid);
    if (namespace == null) {
      throw refused(what, "No such file or directory");
    }
    namespace.sizeBytes = namespace.device.sizeBytes();
  }

  void createPort(int id, String transport, String addressFamily, String address, int serviceId)
      throws KernelException {
    if (ports.containsKey(id)) {
      throw refused("mkdir ports/" + id, "File exists");
    }
    if (!transport.equals("tcp") && !transport.equals("rdma") && !transport.equals("loop")) {
      throw refused("write ports/" + id + "/addr_trtype", "Invalid argument");
    }
    ports.put(id, new Port(id, transport, addressFamily, address, serviceId));
  }

  void removePort(int id) throws KernelException {
    Port port = port(id, "rmdir ports/" + id);
    if (!port.subsystems.isEmpty() || port.anaGroups.size() > 1) {
      throw refused("rmdir ports/" + id, "Directory not empty");
    }
    ports.remove(id);
  }

  void createAnaGroup(int portId, int group) throws KernelException {
    String what = "mkdir ports/" + portId + "/ana_groups/" + group;
    Port port = port(portId, what);
    if (group < 1 || group > MAX_ANA_GROUP) {
      throw refused(what, "Invalid argument");
    }
    if (port.anaGroups.containsKey(group)) {
      throw refused(what, "File exists");
    }
    port.anaGroups.put(group, AnaState.OPTIMIZED); // nvmet's initial state for a new group
  }

  void setAnaState(int portId, int group, AnaState state) throws KernelException {
    String what = "write ports/" + portId + "/ana_groups/" + group + "/ana_state";
    Port port = port(portId, what);
    if (!port.anaGroups.containsKey(group)) {
      throw refused(what, "No such file or directory");
    }
    port.anaGroups.put(group, state);
  }

  void removeAnaGroup(int portId, int group) throws KernelException {
    String what = "rmdir ports/" + portId + "/ana_groups/" + group;
    Port port = port(portId, what);
    if (group == DEFAULT_ANA_GROUP) {
      throw refused(what, "Operation not permitted");
    }
    if (port.anaGroups.remove(group) == null) {
      throw refused(what, "No such file or directory");
    }
  }

  /** {@code localAddress}: the node's fabric address (a port can listen there, on 0.0.0.0 or 127.0.0.1). */
  void link(int portId, String nqn, String localAddress) throws KernelException {
    String what = "ln -s subsystems/" + nqn + " ports/" + portId + "/subsystems/" + nqn;
    Port port = port(portId, what);
    existing(nqn, what);
    if (port.subsystems.contains(nqn)) {
      throw refused(what, "File exists");
    }
    if (!port.listening()) {
      if (!port.address.equals(localAddress) && !port.address.equals("0.0.0.0") && !port.address.equals("127.0.0.1")) {
        throw refused(what, "Cannot assign requested address");
      }
      for (Port other : ports.values()) {
        boolean sameAddress = other.address.equals(port.address) || other.address.equals("0.0.0.0")
            || port.address.equals("0.0.0.0");
        if (other != port && other.listening() && other.serviceId == port.serviceId && sameAddress) {
          throw refused(what, "Address already in use");
        }
      }
    }
    port.subsystems.add(nqn);
  }

  void unlink(int portId, String nqn) throws KernelException {
    String what = "rm ports/" + portId + "/subsystems/" + nqn;
    if (!port(portId, what).subsystems.remove(nqn)) {
      throw refused(what, "No such file or directory");
    }
  }

  /** The listening port a host reaches at (address, service id), if any. */
  Optional<Port> listeningPort(String transport, String address, boolean loopback, int serviceId) {
    for (Port port : ports.values()) {
      boolean addressMatches = port.address.equals(address) || port.address.equals("0.0.0.0")
          || (loopback && port.address.equals("127.0.0.1"));
      if (port.listening() && port.serviceId == serviceId && addressMatches && port.transport.equals(transport)) {
        return Optional.of(port);
      }
    }
    return Optional.empty();
  }

  Set<String> hosts() {
    return Set.copyOf(hosts);
  }

  Map<String, SubsystemState> subsystemStates() {
    Map<String, SubsystemState> states = new LinkedHashMap<>();
    for (Subsystem s : subsystems.values()) {
      Map<Integer, NamespaceState> namespaces = new LinkedHashMap<>();
      s.namespaces.values().forEach(ns -> namespaces.put(ns.nsid,
          new NamespaceState(ns.nsid, ns.devicePath, ns.deviceUuid, ns.anaGroupId, true)));
      states.put(s.nqn, new SubsystemState(s.nqn, false, s.allowedHosts, namespaces));
    }
    return states;
  }

  Map<Integer, PortState> portStates() {
    Map<Integer, PortState> states = new LinkedHashMap<>();
    for (Port p : ports.values()) {
      states.put(p.id, new PortState(p.id, p.transport, p.addressFamily, p.address, p.serviceId, p.anaGroups,
          p.subsystems));
    }
    return states;
  }

  private Subsystem existing(String nqn, String what) throws KernelException {
    Subsystem subsystem = subsystems.get(nqn);
    if (subsystem == null) {
      throw refused(what, "No such file or directory");
    }
    return subsystem;
  }

  private Port port(int id, String what) throws KernelException {
    Port port = ports.get(id);
    if (port == null) {
      throw refused(what, "No such file or directory");
    }
    return port;
  }

  private static KernelException refused(String what, String why) {
    return new KernelException(what + ": " + why);
  }
}
