package io.toma.disk;

import io.toma.persistence.CborSerializable;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Optional;

/**
 * The extents of one physical disk, as an immutable value: first-fit allocation aligned to 1 MiB,
 * release by owner, and growth in place. Every operation returns a new allocator; the entity
 * around it is the single writer, so no two owners ever get overlapping extents.
 */
public record ExtentAllocator(long sizeBytes, List<Extent> extents) implements CborSerializable {

  public static final long ALIGNMENT = 1024L * 1024L;
  /** Space left at the start of every disk, so Toma never writes over a partition table. */
  public static final long FIRST_USABLE = ALIGNMENT;

  public ExtentAllocator {
    List<Extent> sorted = new ArrayList<>(extents);
    sorted.sort(Comparator.comparingLong(Extent::offsetBytes));
    extents = List.copyOf(sorted);
  }

  public static ExtentAllocator empty(long sizeBytes) {
    return new ExtentAllocator(sizeBytes, List.of());
  }

  // Plain loops below, not streams: every grant runs them over all the disk's extents, and the
  // stream pipelines were a visible share of a create's CPU (docs/benchmarks.md §2).

  public long usedBytes() {
    long used = 0;
    for (Extent e : extents) {
      used += e.lengthBytes();
    }
    return used;
  }

  public long freeBytes() {
    return Math.max(0, usableEnd() - FIRST_USABLE - usedBytes());
  }

  public Optional<Extent> find(String volumeId, String tag) {
    for (Extent e : extents) {
      if (e.volumeId().equals(volumeId) && e.tag().equals(tag)) {
        return Optional.of(e);
      }
    }
    return Optional.empty();
  }

  public List<Extent> ownedBy(String volumeId) {
    List<Extent> owned = new ArrayList<>(2);
    for (Extent e : extents) {
      if (e.volumeId().equals(volumeId)) {
        owned.add(e);
      }
    }
    return List.copyOf(owned);
  }

  /** The first gap that holds {@code lengthBytes} (rounded up to the alignment), or empty. */
  public Optional<Extent> firstFit(String volumeId, String tag, long lengthBytes) {
    long length = align(lengthBytes);
    long cursor = FIRST_USABLE;
    for (Extent e : extents) {
      if (e.offsetBytes() - cursor >= length) {
        return Optional.of(new Extent(volumeId, tag, cursor, length));
      }
      cursor = Math.max(cursor, e.endBytes());
    }
    if (usableEnd() - cursor >= length) {
      return Optional.of(new Extent(volumeId, tag, cursor, length));
    }
    return Optional.empty();
  }

  public ExtentAllocator with(Extent extent) {
    for (Extent e : extents) {
      if (e.overlaps(extent)) {
        throw new IllegalStateException("extent " + extent + " overlaps " + e);
      }
    }
    if (extent.offsetBytes() < FIRST_USABLE || extent.endBytes() > usableEnd()) {
      throw new IllegalStateException("extent " + extent + " outside the disk");
    }
    List<Extent> next = new ArrayList<>(extents);
    next.add(extent);
    return new ExtentAllocator(sizeBytes, next);
  }

  /** Without the volume's extents, except those of the members in {@code keepTags}. */
  public ExtentAllocator without(String volumeId, java.util.Set<String> keepTags) {
    return new ExtentAllocator(
        sizeBytes,
        extents.stream()
            .filter(e -> !e.volumeId().equals(volumeId) || keepTags.contains(e.tag()))
            .toList());
  }

  /** The extent grown in place to {@code newLength}, when the bytes after it are free. */
  public Optional<Extent> growInPlace(String volumeId, String tag, long newLength) {
    Optional<Extent> current = find(volumeId, tag);
    if (current.isEmpty()) {
      return Optional.empty();
    }
    Extent e = current.get();
    long length = align(newLength);
    if (length <= e.lengthBytes()) {
      return Optional.of(e);
    }
    long limit = extents.stream()
        .filter(o -> o.offsetBytes() >= e.endBytes())
        .mapToLong(Extent::offsetBytes)
        .min()
        .orElse(usableEnd());
    return e.offsetBytes() + length <= limit
        ? Optional.of(new Extent(volumeId, tag, e.offsetBytes(), length))
        : Optional.empty();
  }

  public ExtentAllocator replacing(Extent grown) {
    List<Extent> next = new ArrayList<>();
    for (Extent e : extents) {
      boolean same = e.volumeId().equals(grown.volumeId()) && e.tag().equals(grown.tag());
      next.add(same ? grown : e);
    }
    return new ExtentAllocator(sizeBytes, next);
  }

  private long usableEnd() {
    return (sizeBytes / ALIGNMENT) * ALIGNMENT;
  }

  public static long align(long bytes) {
    return ((bytes + ALIGNMENT - 1) / ALIGNMENT) * ALIGNMENT;
  }
}
