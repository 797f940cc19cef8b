package io.toma.kernel.sim;

import java.time.Duration;

/**
 * The outcome of one simulated I/O. I/O is synchronous and deterministic; a request that the real
 * kernel would hold (a path that is reconnecting, a suspended dm device, a multipath head with no
 * optimized path during an ANA change) answers {@link Retry}: nothing was lost, ask again after
 * the clock has moved.
 */
public sealed interface IoResult {

  /** Done. {@code data} is what was read (empty for a write); latency is simulated time spent. */
  record Ok(byte[] data, Duration latency) implements IoResult {}

  /** EIO: the request failed for good (dead disk, error target, fast_io_fail, lost path). */
  record Error(String reason) implements IoResult {}

  /** Held by the kernel (requeued); retry later. The reason reads like the kernel's log line. */
  record Retry(String reason) implements IoResult {}

  static Ok written(Duration latency) {
    return new Ok(new byte[0], latency);
  }

  default boolean isOk() {
    return this instanceof Ok;
  }
}
