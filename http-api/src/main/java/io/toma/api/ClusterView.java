package io.toma.api;

import java.util.List;
import java.util.Map;

/**
 * The cluster at a glance: members (node ids) that are up, those unreachable, how many volumes
 * are in each state (every {@link VolumeState} present, zeros included), and repairs under way.
 */
public record ClusterView(
    List<String> members, List<String> unreachableMembers, Map<VolumeState, Integer> volumesByState, List<RepairView> repairs) {
  public ClusterView {
    members = List.copyOf(members);
    unreachableMembers = List.copyOf(unreachableMembers);
    // Sorted in the enum's order, so the JSON reads Provisioning, Online, Degraded, ...
    volumesByState = java.util.Collections.unmodifiableMap(new java.util.TreeMap<>(volumesByState));
    repairs = List.copyOf(repairs);
  }
}
