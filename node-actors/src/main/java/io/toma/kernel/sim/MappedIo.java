package io.toma.kernel.sim;

import java.time.Duration;

/** Splits one I/O over the contiguous extents a mapping target (linear, striped) sends it to. */
final class MappedIo {

  /** Where byte {@code offset} of the target lives, and how many bytes run on contiguously. */
  record Extent(SimBlockDevice device, long deviceOffset, long contiguous) {}

  interface Mapper {
    Extent at(long offset);
  }

  private MappedIo() {}

  static IoResult read(Mapper mapper, long offset, int length) {
    byte[] out = new byte[length];
    Duration latency = Duration.ZERO;
    int done = 0;
    while (done < length) {
      Extent extent = mapper.at(offset + done);
      int n = (int) Math.min(extent.contiguous(), length - done);
      IoResult result = extent.device().read(extent.deviceOffset(), n);
      if (!(result instanceof IoResult.Ok ok)) {
        return result;
      }
      System.arraycopy(ok.data(), 0, out, done, n);
      latency = max(latency, ok.latency());
      done += n;
    }
    return new IoResult.Ok(out, latency);
  }

  static IoResult write(Mapper mapper, long offset, byte[] data) {
    Duration latency = Duration.ZERO;
    int done = 0;
    while (done < data.length) {
      Extent extent = mapper.at(offset + done);
      int n = (int) Math.min(extent.contiguous(), data.length - done);
      byte[] piece = new byte[n];
      System.arraycopy(data, done, piece, 0, n);
      IoResult result = extent.device().write(extent.deviceOffset(), piece);
      if (!(result instanceof IoResult.Ok ok)) {
        return result;
      }
      latency = max(latency, ok.latency());
      done += n;
    }
    return IoResult.written(latency);
  }

  static Duration max(Duration a, Duration b) {
    return a.compareTo(b) >= 0 ? a : b;
  }
}
