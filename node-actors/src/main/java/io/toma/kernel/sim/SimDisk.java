package io.toma.kernel.sim;

import java.time.Duration;

/**
 * A physical disk of a simulated node. It belongs to the node, not to the kernel: a node restart
 * drops every kernel object but the disk and its data stay. A dead disk fails every I/O and
 * disappears from the node's block devices; a slow disk adds latency to every I/O.
 */
public final class SimDisk implements SimBlockDevice {
  private final String id;
  private final String path;
  private final long sizeBytes;
  private final SparseStore store = new SparseStore();
  private boolean dead;
  private Duration extraLatency = Duration.ZERO;

  SimDisk(String id, String path, long sizeBytes) {
    if (sizeBytes <= 0 || sizeBytes % 512 != 0) {
      throw new IllegalArgumentException("disk size must be a positive multiple of 512: " + sizeBytes);
    }
    this.id = id;
    this.path = path;
    this.sizeBytes = sizeBytes;
  }

  public String id() {
    return id;
  }

  /** The device path the node's kernel shows for this disk (e.g. /dev/nullb0). */
  public String path() {
    return path;
  }

  @Override
  public long sizeBytes() {
    return sizeBytes;
  }

  public boolean isDead() {
    return dead;
  }

  void die() {
    dead = true;
  }

  void setExtraLatency(Duration latency) {
    this.extraLatency = latency;
  }

  /** Memory cost of the disk's data, in 4 KiB pages. */
  public int pagesInMemory() {
    return store.pagesInMemory();
  }

  @Override
  public IoResult read(long offset, int length) {
    if (dead) {
      return new IoResult.Error("I/O error on " + path + ": disk is dead");
    }
    var range = SimBlockDevice.outOfRange(this, offset, length);
    if (range.isPresent()) {
      return range.get();
    }
    return new IoResult.Ok(store.read(offset, length), extraLatency);
  }

  @Override
  public IoResult write(long offset, byte[] data) {
    if (dead) {
      return new IoResult.Error("I/O error on " + path + ": disk is dead");
    }
    var range = SimBlockDevice.outOfRange(this, offset, data.length);
    if (range.isPresent()) {
      return range.get();
    }
    store.write(offset, data);
    return IoResult.written(extraLatency);
  }

  @Override
  public long nextData(long from) {
    return dead ? from : store.nextData(from, sizeBytes);
  }
}
