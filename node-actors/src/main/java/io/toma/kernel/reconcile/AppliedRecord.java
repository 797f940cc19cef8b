package io.toma.kernel.reconcile;

import io.toma.kernel.DesiredState;
import io.toma.kernel.DesiredState.DmTableLine;
import io.toma.kernel.KernelOp;
import io.toma.persistence.CborSerializable;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;

/**
 * What the agent itself put into the kernel, kept beside the desired states in the node's store.
 *
 * <p>Why: the kernel prints a dm table's devices as {@code major:minor}, so a live table cannot be
 * compared with a desired one that says {@code @ns:<uuid>}. The record keeps the symbolic table
 * last loaded per device (compared as written, so an unchanged state gives zero operations), the
 * epoch last applied per volume (an epoch rise triggers fencing once), and the ports and host
 * entries Toma created (ports have no name prefix; attached hosts may have foreign NQNs, and both
 * may still be garbage-collected because Toma made them).
 */
public record AppliedRecord(
    Map<String, Long> epochs,
    Map<String, List<DmTableLine>> tables,
    Set<Integer> ports,
    Set<String> hosts)
    implements CborSerializable {

  public AppliedRecord {
    epochs = Map.copyOf(epochs);
    tables = Map.copyOf(tables);
    ports = Set.copyOf(ports);
    hosts = Set.copyOf(hosts);
  }

  public static AppliedRecord empty() {
    return new AppliedRecord(Map.of(), Map.of(), Set.of(), Set.of());
  }

  /** The record after one more operation succeeded. */
  public AppliedRecord after(KernelOp op) {
    Map<String, List<DmTableLine>> t = new TreeMap<>(tables);
    Set<Integer> p = new TreeSet<>(ports);
    Set<String> h = new TreeSet<>(hosts);
    if (op instanceof KernelOp.DmCreate o) {
      t.put(o.name(), o.table());
    } else if (op instanceof KernelOp.DmReload o) {
      t.put(o.name(), o.table());
    } else if (op instanceof KernelOp.DmRemove o) {
      t.remove(o.name());
    } else if (op instanceof KernelOp.PortCreate o) {
      p.add(o.portId());
    } else if (op instanceof KernelOp.PortRemove o) {
      p.remove(o.portId());
    } else if (op instanceof KernelOp.HostCreate o) {
      h.add(o.hostNqn());
    } else if (op instanceof KernelOp.HostRemove o) {
      h.remove(o.hostNqn());
    } else {
      return this;
    }
    return new AppliedRecord(epochs, t, p, h);
  }

  /** After a whole reconcile succeeded: every held volume's epoch is now in force. */
  public AppliedRecord withEpochsOf(Map<String, DesiredState> held) {
    Map<String, Long> e = new TreeMap<>();
    held.forEach((volume, desired) -> e.put(volume, desired.epoch()));
    return new AppliedRecord(e, tables, ports, hosts);
  }
}
