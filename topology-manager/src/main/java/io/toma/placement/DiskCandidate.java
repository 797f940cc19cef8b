package io.toma.placement;

import io.toma.topology.DiskFacts;

/**
 * A disk as placement sees it mid-decision: its facts, whether its node is cordoned, and the bytes
 * this placement has already promised on it (so two members chosen in one pass add up).
 */
public record DiskCandidate(DiskFacts disk, boolean nodeCordoned, long promisedBytes) {

  public long freeAfterPromises() {
    return disk.freeBytes() - promisedBytes;
  }
}
