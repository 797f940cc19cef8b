package io.toma.disk;

import io.toma.persistence.CborSerializable;

/**
 * A logical disk: {@code lengthBytes} of a physical disk from {@code offsetBytes}, owned by one
 * member ({@code tag}, e.g. "l0r1") of one volume.
 */
public record Extent(String volumeId, String tag, long offsetBytes, long lengthBytes)
    implements CborSerializable {

  public long endBytes() {
    return offsetBytes + lengthBytes;
  }

  public boolean overlaps(Extent other) {
    return offsetBytes < other.endBytes() && other.offsetBytes < endBytes();
  }
}
