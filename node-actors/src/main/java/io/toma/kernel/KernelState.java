package io.toma.kernel;

import io.toma.kernel.DesiredState.AnaState;
import io.toma.kernel.DesiredState.DmTableLine;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * What a node's kernel holds right now, as read back from it (configfs, dmsetup, /sys). The
 * reconcile diff compares this with the union of desired states. Only facts, no interpretation.
 */
public record KernelState(
    Map<String, DmDeviceState> dmDevices,
    Map<String, SubsystemState> subsystems,
    Set<String> hosts,
    Map<Integer, PortState> ports,
    List<ControllerState> controllers) {

  public KernelState {
    dmDevices = Ordered.map(dmDevices);
    subsystems = Ordered.map(subsystems);
    hosts = Ordered.set(hosts);
    ports = Ordered.map(ports);
    controllers = List.copyOf(controllers);
  }

  public static KernelState empty() {
    return new KernelState(Map.of(), Map.of(), Set.of(), Map.of(), List.of());
  }

  /** A dm device: its live table (device args as the kernel prints them) and raw status line(s). */
  public record DmDeviceState(String name, List<DmTableLine> table, boolean suspended, String status) {
    public DmDeviceState {
      table = List.copyOf(table);
    }
  }

  public record NamespaceState(int nsid, String devicePath, String deviceUuid, int anaGroupId, boolean enabled) {}

  public record SubsystemState(
      String nqn, boolean allowAnyHost, Set<String> allowedHosts, Map<Integer, NamespaceState> namespaces) {
    public SubsystemState {
      allowedHosts = Ordered.set(allowedHosts);
      namespaces = Ordered.map(namespaces);
    }
  }

  public record PortState(
      int portId,
      String transport,
      String addressFamily,
      String address,
      int serviceId,
      Map<Integer, AnaState> anaGroups,
      Set<String> subsystems) {
    public PortState {
      anaGroups = Ordered.map(anaGroups);
      subsystems = Ordered.set(subsystems);
    }
  }

  /**
   * An NVMe-oF host-side controller (/sys/class/nvme/nvmeN): its subsystem, address, host NQN,
   * state ("live", "connecting", ...) and the block devices of its namespaces keyed by uuid.
   */
  public record ControllerState(
      String device,
      String subsystemNqn,
      String address,
      int serviceId,
      String hostNqn,
      String state,
      Map<String, String> namespaceDevicesByUuid) {
    public ControllerState {
      namespaceDevicesByUuid = Ordered.map(namespaceDevicesByUuid);
    }
  }
}
