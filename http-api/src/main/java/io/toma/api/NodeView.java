package io.toma.api;

import java.util.List;

/**
 * A storage machine. {@code roles} among {@code manager}, {@code disk}, {@code controller},
 * {@code host}; {@code status} is {@code up}, {@code unreachable} or {@code down}.
 */
public record NodeView(
    String id, List<String> roles, String zone, String rack, String status, boolean cordoned, List<DiskView> disks) {
  public NodeView {
    roles = List.copyOf(roles);
    disks = List.copyOf(disks);
  }
}
