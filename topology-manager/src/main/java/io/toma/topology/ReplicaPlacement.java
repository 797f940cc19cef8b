package io.toma.topology;

import io.toma.persistence.CborSerializable;

/**
 * One member of one leg: a logical disk (an extent of a physical disk) and where it lives. The
 * extent holds 8192 sectors of raid metadata followed by the leg's data.
 */
public record ReplicaPlacement(
    int leg,
    int replica,
    String diskId,
    String nodeId,
    String rack,
    String zone,
    String fabricAddress,
    long offsetBytes,
    long lengthBytes)
    implements CborSerializable {

  public String tag() {
    return "l" + leg + "r" + replica;
  }
}
