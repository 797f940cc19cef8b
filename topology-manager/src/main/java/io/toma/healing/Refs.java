package io.toma.healing;

import io.toma.persistence.CborSerializable;

/**
 * The few references healing speaks in. Ids are the plain strings the rest of Toma uses (node id,
 * disk id, volume id, extent id), so the entities map their own types onto these in one line.
 */
public final class Refs {
  private Refs() {}

  /** A physical disk, named by the node that holds it. */
  public record DiskRef(String node, String disk) implements CborSerializable {}

  /** A logical disk (extent) granted on a physical disk. */
  public record ExtentRef(String node, String disk, String extent) implements CborSerializable {
    public DiskRef diskRef() {
      return new DiskRef(node, disk);
    }
  }

  /** One raid1 leg of a volume (legs are numbered from 0, as in the raid0 over them). */
  public record LegRef(String volume, int leg) implements CborSerializable {}

  /** One member of a leg: its raid1 slot and the extent that backs it. */
  public record MemberRef(LegRef leg, int slot, ExtentRef extent) implements CborSerializable {
    public String node() {
      return extent.node();
    }

    public DiskRef disk() {
      return extent.diskRef();
    }
  }
}
