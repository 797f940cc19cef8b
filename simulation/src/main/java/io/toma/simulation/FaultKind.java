package io.toma.simulation;

/** The faults a simulated run injects; each transient one is healed by the schedule. */
public enum FaultKind {
  /** A physical disk fails every I/O, for good. */
  DISK_DEATH,
  /** A disk answers slowly for a while. */
  SLOW_DISK,
  /** The fabric link between two storage nodes is cut both ways, then healed. */
  LINK_CUT,
  /** A node's kernel stops (its objects are gone, its disks keep their data), then boots again. */
  NODE_CRASH,
  /** Every node of one rack crashes together, then boots again. */
  RACK_LOSS,
  /** A minority group is cut from everyone else (fabric and cluster), then healed. */
  PARTITION,
  /** Only the link between the manager and one node is cut (the node still sees a majority). */
  CONTROL_LINK_CUT,
  /** The manager drops its memory and rebuilds every volume from its journal. */
  MANAGER_RESTART;

  public String label() {
    return name().toLowerCase(java.util.Locale.ROOT).replace('_', '-');
  }
}
