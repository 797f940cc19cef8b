package io.toma.kernel.sim;

/** A block device of the simulated kernel: byte-addressed, synchronous, deterministic. */
public interface SimBlockDevice {

  long sizeBytes();

  IoResult read(long offset, int length);

  IoResult write(long offset, byte[] data);

  /**
   * Like lseek(SEEK_DATA): the first offset at or after {@code from} that may hold non-zero
   * data, or {@link #sizeBytes()} when none does. Answering {@code from} is always correct (it
   * only costs copying); resync uses it so a TiB array with little data syncs in little work.
   */
  long nextData(long from);

  /** Checks an I/O range; empty when it lies inside the device. */
  static java.util.Optional<IoResult> outOfRange(SimBlockDevice device, long offset, long length) {
    if (offset < 0 || length < 0 || offset + length > device.sizeBytes()) {
      return java.util.Optional.of(
          new IoResult.Error(
              "access beyond end of device: offset " + offset + " length " + length
                  + " size " + device.sizeBytes()));
    }
    return java.util.Optional.empty();
  }
}
