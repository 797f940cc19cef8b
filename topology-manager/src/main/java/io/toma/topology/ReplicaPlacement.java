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
    long lengthBytes,
    /** 0 for a member placed at create; n for the n-th replacement of this slot (a new tag). */
    int generation)
    implements CborSerializable {

  public ReplicaPlacement(int leg, int replica, String diskId, String nodeId, String rack, String zone,
      String fabricAddress, long offsetBytes, long lengthBytes) {
    this(leg, replica, diskId, nodeId, rack, zone, fabricAddress, offsetBytes, lengthBytes, 0);
  }

  /**
   * The member's name in extents, dm devices and NQNs: "l0r1", and "l0r1g2" for its second
   * replacement, so a replacement never shares a kernel name with the member it replaces.
   */
  public String tag() {
    return "l" + leg + "r" + replica + (generation == 0 ? "" : "g" + generation);
  }

  /** Whether an extent's tag names a replacement ("l0r1g2"), not a member placed at create ("l0r1"). */
  public static boolean isReplacementTag(String tag) {
    int g = tag.lastIndexOf('g');
    return tag.startsWith("l") && g > 0 && g < tag.length() - 1
        && tag.substring(g + 1).chars().allMatch(Character::isDigit);
  }
}
