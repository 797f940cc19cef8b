package io.toma.kernel.sim;

import java.nio.ByteBuffer;
import java.util.Optional;

/**
 * What the simulated dm-raid keeps on a member's metadata device (sector 0), like the kernel's
 * dm-raid superblock: it is why a raid1 with metadata remembers, across a table reload or a node
 * restart, which members were in sync, and why a blank device put in a slot is recognised as new.
 *
 * @param events bumped at every state change; a member with fewer events than the freshest one is
 *     stale and must be recovered
 * @param failedSlots bit i set: the writer saw slot i fail
 * @param diskRecoveryOffset sectors of this member known good; {@link #IN_SYNC} when all are
 * @param arrayResyncOffset sectors of the initial resync done; {@link #IN_SYNC} when complete
 */
record RaidSuperblock(
    int devices, int slot, long events, long failedSlots, long diskRecoveryOffset, long arrayResyncOffset) {

  static final long IN_SYNC = Long.MAX_VALUE;
  static final int SIZE = 512;
  private static final long MAGIC = 0x546f_6d61_5261_6964L; // "TomaRaid"

  byte[] encode() {
    ByteBuffer buffer = ByteBuffer.allocate(SIZE);
    buffer.putLong(MAGIC).putInt(devices).putInt(slot).putLong(events).putLong(failedSlots)
        .putLong(diskRecoveryOffset).putLong(arrayResyncOffset);
    return buffer.array();
  }

  /** Empty when the sector holds no superblock (a blank, new device). */
  static Optional<RaidSuperblock> decode(byte[] sector) {
    ByteBuffer buffer = ByteBuffer.wrap(sector);
    if (sector.length < SIZE || buffer.getLong() != MAGIC) {
      return Optional.empty();
    }
    return Optional.of(new RaidSuperblock(
        buffer.getInt(), buffer.getInt(), buffer.getLong(), buffer.getLong(), buffer.getLong(),
        buffer.getLong()));
  }

  boolean failed(int slotIndex) {
    return (failedSlots & (1L << slotIndex)) != 0;
  }
}
