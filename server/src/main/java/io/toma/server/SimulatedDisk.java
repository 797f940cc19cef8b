package io.toma.server;

/** A disk the demo gives a storage node instead of a real NVMe device. */
public record SimulatedDisk(String diskId, long sizeBytes) {
  public static final long TIB = 1L << 40;

  @Override
  public String toString() {
    return sizeBytes % TIB == 0 ? diskId + " (" + sizeBytes / TIB + " TiB)" : diskId + " (" + sizeBytes + " B)";
  }
}
