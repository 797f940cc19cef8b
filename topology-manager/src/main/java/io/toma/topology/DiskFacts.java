package io.toma.topology;

import io.toma.persistence.CborSerializable;

/** One physical disk as the capacity view gossips it: where it is, how big, how free, healthy. */
public record DiskFacts(
    String diskId,
    String nodeId,
    String zone,
    String rack,
    long sizeBytes,
    long freeBytes,
    boolean healthy)
    implements CborSerializable {}
