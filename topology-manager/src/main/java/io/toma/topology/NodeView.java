package io.toma.topology;

import java.util.List;

/** A node as callers see it: facts, cordon, its disks and the volumes it hosts controllers of. */
public record NodeView(
    String id,
    List<String> roles,
    String zone,
    String rack,
    String fabricAddress,
    String hostNqn,
    boolean cordoned,
    int hostedControllers,
    List<DiskView> disks) {

  public NodeView {
    roles = List.copyOf(roles);
    disks = List.copyOf(disks);
  }

  public record DiskView(String id, long sizeBytes, long freeBytes, boolean healthy) {}
}
