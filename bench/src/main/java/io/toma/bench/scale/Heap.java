package io.toma.bench.scale;

import java.lang.management.ManagementFactory;

/** Used heap after full collections, so two readings differ by what is still reachable. */
final class Heap {
  private Heap() {}

  static long usedAfterGc() {
    long used = Long.MAX_VALUE;
    for (int i = 0; i < 4; i++) {
      System.gc();
      try {
        Thread.sleep(200);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        break;
      }
      used = Math.min(used, ManagementFactory.getMemoryMXBean().getHeapMemoryUsage().getUsed());
    }
    return used;
  }
}
