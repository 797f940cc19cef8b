package io.toma.topology;

import io.toma.persistence.CborSerializable;

/**
 * One physical disk as the capacity view gossips it: where it is, how big, how free, healthy, and
 * {@code repairBytes}: the bytes of its extents that replace a lost member (a tag with a
 * generation, {@link ReplicaPlacement#isReplacementTag}), which re-protection balances
 * ({@code DiskPlacer.forReprotection}).
 */
public record DiskFacts(
    String diskId,
    String nodeId,
    String zone,
    String rack,
    long sizeBytes,
    long freeBytes,
    boolean healthy,
    long repairBytes)
    implements CborSerializable {

  /** A disk holding no replacement. */
  public DiskFacts(String diskId, String nodeId, String zone, String rack, long sizeBytes, long freeBytes,
      boolean healthy) {
    this(diskId, nodeId, zone, rack, sizeBytes, freeBytes, healthy, 0);
  }
}
