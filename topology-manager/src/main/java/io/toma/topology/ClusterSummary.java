package io.toma.topology;

import java.util.Map;

/** Totals for the cluster health page: nodes, disks, bytes, and volumes counted by state. */
public record ClusterSummary(
    int nodes,
    int cordonedNodes,
    int disks,
    int unhealthyDisks,
    long totalBytes,
    long freeBytes,
    int volumes,
    Map<String, Integer> volumesByState) {

  public ClusterSummary {
    volumesByState = Map.copyOf(volumesByState);
  }
}
