package io.toma.disk;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Test;

class ExtentAllocatorTest {

  private static final long MIB = ExtentAllocator.ALIGNMENT;

  private static ExtentAllocator grant(ExtentAllocator a, String volume, long bytes) {
    return a.with(a.firstFit(volume, "r0", bytes).orElseThrow());
  }

  @Test
  void anExtentGrantedIntoAFreedGapSitsBetweenItsNeighboursInOffsetOrder() {
    ExtentAllocator a = ExtentAllocator.empty(100 * MIB);
    a = grant(a, "v1", 10 * MIB);
    a = grant(a, "v2", 10 * MIB);
    a = grant(a, "v3", 10 * MIB);
    a = a.without("v2", Set.of());

    a = grant(a, "v4", 5 * MIB);

    assertEquals(List.of("v1", "v4", "v3"), a.extents().stream().map(Extent::volumeId).toList());
    assertEquals(List.of(MIB, 11 * MIB, 21 * MIB), a.extents().stream().map(Extent::offsetBytes).toList());
    assertEquals(25 * MIB, a.usedBytes());
  }

  @Test
  void extentsGivenOutOfOrderAreKeptInOffsetOrder() {
    Extent high = new Extent("v1", "r0", 20 * MIB, MIB);
    Extent low = new Extent("v2", "r0", MIB, MIB);

    ExtentAllocator a = new ExtentAllocator(100 * MIB, List.of(high, low));

    assertEquals(List.of(low, high), a.extents());
  }

  @Test
  void anExtentOverlappingAGrantedOneIsRefused() {
    ExtentAllocator a = grant(ExtentAllocator.empty(100 * MIB), "v1", 10 * MIB);

    assertThrows(IllegalStateException.class, () -> a.with(new Extent("v2", "r0", 5 * MIB, 10 * MIB)));
    assertEquals(1, a.extents().size());
  }
}
