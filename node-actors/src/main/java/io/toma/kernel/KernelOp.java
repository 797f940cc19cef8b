package io.toma.kernel;

import io.toma.kernel.DesiredState.AnaState;
import io.toma.kernel.DesiredState.DmTableLine;
import io.toma.kernel.DesiredState.FabricConnection;
import java.util.List;
import java.util.Optional;

/**
 * One operation on a node's kernel, as a value. The reconcile diff (a pure function of desired and
 * actual state) returns a list of these; the Linux backend executes them (configfs, dmsetup, nvme),
 * the simulated kernel executes them on its in-memory twin, and the dry-run plan renders them as a
 * shell script. One list, three consumers: what the plan shows is what the agent does.
 *
 * <p>Device paths inside table args and namespace paths may hold the symbolic references described
 * in {@link DesiredState}; each backend resolves them when it executes (the plan renders them as
 * calls to a shell function that finds the device).
 */
public sealed interface KernelOp {

  // ---- device-mapper ----
  record DmCreate(String name, List<DmTableLine> table) implements KernelOp {}

  /** Load a new table into the inactive slot; takes effect at the next suspend/resume. */
  record DmReload(String name, List<DmTableLine> table) implements KernelOp {}

  /** noFlush: keep held I/O queued instead of failing it (kernel-recipes: mind --noflush). */
  record DmSuspend(String name, boolean noFlush) implements KernelOp {}

  record DmResume(String name) implements KernelOp {}

  record DmRemove(String name) implements KernelOp {}

  /**
   * Writes zeros over {@code sectors} 512-byte sectors of a block device from {@code startSector}
   * (device: a symbolic reference or a /dev path). Used only on the lower device of a brand-new
   * member's slice, before the slice exists: see {@link DesiredState.DmDevice#wipeSectorsWhenNew}.
   */
  record ZeroSectors(String device, long startSector, long sectors) implements KernelOp {}

  // ---- nvmet target (configfs) ----
  record HostCreate(String hostNqn) implements KernelOp {}

  record HostRemove(String hostNqn) implements KernelOp {}

  /** mkdir subsystems/NQN; attr_allow_any_host=0; optional cntlid range. */
  record SubsystemCreate(String nqn, Optional<Integer> cntlidMin, Optional<Integer> cntlidMax)
      implements KernelOp {}

  record SubsystemRemove(String nqn) implements KernelOp {}

  record SubsystemAllowHost(String nqn, String hostNqn) implements KernelOp {}

  record SubsystemDisallowHost(String nqn, String hostNqn) implements KernelOp {}

  /** mkdir namespaces/N; device_path, device_uuid, ana_grpid; enable=1. */
  record NamespaceCreate(String nqn, int nsid, String devicePath, String deviceUuid, int anaGroupId)
      implements KernelOp {}

  record NamespaceRemove(String nqn, int nsid) implements KernelOp {}

  /** Write 1 to revalidate_size after the backing device grew. */
  record NamespaceRevalidate(String nqn, int nsid) implements KernelOp {}

  record PortCreate(int portId, String transport, String addressFamily, String address, int serviceId)
      implements KernelOp {}

  record PortRemove(int portId) implements KernelOp {}

  record AnaGroupCreate(int portId, int groupId) implements KernelOp {}

  record AnaGroupSetState(int portId, int groupId, AnaState state) implements KernelOp {}

  record AnaGroupRemove(int portId, int groupId) implements KernelOp {}

  record PortLinkSubsystem(int portId, String nqn) implements KernelOp {}

  /** Unlinking also tears down every fabric controller of that subsystem on that port. */
  record PortUnlinkSubsystem(int portId, String nqn) implements KernelOp {}

  // ---- NVMe-oF host side ----
  record Connect(FabricConnection connection) implements KernelOp {}

  record Disconnect(String subsystemNqn) implements KernelOp {}
}
