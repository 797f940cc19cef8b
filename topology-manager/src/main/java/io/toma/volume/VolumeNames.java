package io.toma.volume;

import io.toma.kernel.Names;
import io.toma.topology.ReplicaPlacement;
import java.nio.charset.StandardCharsets;
import java.util.UUID;

/**
 * The naming scheme of a volume's kernel objects (docs/placement.md, "Names"). Every dm name
 * starts with {@code toma-}, every NQN with {@code nqn.2026-11.io.toma:}; names are checked
 * against the kernel's limits (dm names < 128 bytes, NQNs <= 223 bytes).
 */
public final class VolumeNames {
  public static final int MAX_NQN_BYTES = 223;
  public static final int MAX_DM_NAME_BYTES = 127;

  private VolumeNames() {}

  /** The volume's top device (raid0 over the legs, or the error placeholder on a standby). */
  public static String volumeDm(String volume) {
    return checkedDm(Names.PREFIX + volume);
  }

  /** The leg device on the controller (raid1 over its members; linear when replicas = 1). */
  public static String legDm(String volume, int leg) {
    return checkedDm(Names.PREFIX + volume + "-l" + leg);
  }

  /** The slice on the disk node. */
  public static String sliceDm(String volume, String tag) {
    return checkedDm(Names.PREFIX + volume + "-" + tag);
  }

  public static String memberMetaDm(String volume, String tag) {
    return checkedDm(Names.PREFIX + volume + "-" + tag + "-meta");
  }

  public static String memberDataDm(String volume, String tag) {
    return checkedDm(Names.PREFIX + volume + "-" + tag + "-data");
  }

  public static String volumeNqn(String volume) {
    return checkedNqn(Names.NQN_PREFIX + volume);
  }

  public static String memberNqn(String volume, String tag) {
    return checkedNqn(Names.NQN_PREFIX + volume + "." + tag);
  }

  /**
   * The namespace uuid of one member, derived from where it lives: a replacement member on
   * another extent gets another uuid, so a controller never confuses the old and the new.
   */
  public static String memberUuid(String volume, ReplicaPlacement member) {
    String key = "toma:" + volume + ":" + member.tag() + ":" + member.diskId() + ":" + member.offsetBytes();
    return UUID.nameUUIDFromBytes(key.getBytes(StandardCharsets.UTF_8)).toString();
  }

  static String checkedNqn(String nqn) {
    if (nqn.getBytes(StandardCharsets.UTF_8).length > MAX_NQN_BYTES) {
      throw new IllegalArgumentException("NQN longer than 223 bytes: " + nqn);
    }
    return nqn;
  }

  static String checkedDm(String name) {
    if (name.getBytes(StandardCharsets.UTF_8).length > MAX_DM_NAME_BYTES || name.contains("/")) {
      throw new IllegalArgumentException("invalid dm name: " + name);
    }
    return name;
  }
}
