package io.toma.volume;

import io.toma.disk.ExtentAllocator;
import io.toma.topology.VolumeSpec;

/**
 * The sizes a volume's kernel objects get, in bytes and 512-byte sectors. Every leg member is one
 * extent: 8192 sectors of dm-raid metadata, then the leg's data. Leg data is rounded up to 1 MiB
 * so the raid0 over the legs divides evenly by its 64 KiB chunk.
 */
public record VolumeGeometry(int legs, long legDataBytes) {

  public static final long SECTOR = 512;
  public static final long META_SECTORS = 8192;
  public static final long META_BYTES = META_SECTORS * SECTOR;
  /** raid0 chunk: 128 sectors = 64 KiB. */
  public static final int STRIPE_CHUNK_SECTORS = 128;
  /** raid1 region size in sectors (kernel-recipes). */
  public static final int REGION_SECTORS = 1024;

  public static VolumeGeometry of(VolumeSpec spec) {
    return of(spec.sizeBytes(), spec.layout().legs());
  }

  public static VolumeGeometry of(long sizeBytes, int legs) {
    long perLeg = (sizeBytes + legs - 1) / legs;
    return new VolumeGeometry(legs, ExtentAllocator.align(perLeg));
  }

  public long extentBytes() {
    return META_BYTES + legDataBytes;
  }

  public long extentSectors() {
    return extentBytes() / SECTOR;
  }

  public long legDataSectors() {
    return legDataBytes / SECTOR;
  }

  public long volumeSectors() {
    return legDataSectors() * legs;
  }
}
