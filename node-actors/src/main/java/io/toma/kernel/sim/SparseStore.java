package io.toma.kernel.sim;

import java.util.Arrays;
import java.util.Map;
import java.util.TreeMap;

/**
 * Bytes of a device kept as a sparse map of 4 KiB pages: a TiB disk costs nothing until written.
 * Pages that become all zero are dropped, so discarding by writing zeros frees memory and
 * {@link #nextData(long)} stays exact.
 */
final class SparseStore {
  static final int PAGE = 4096;

  private final TreeMap<Long, byte[]> pages = new TreeMap<>();

  byte[] read(long offset, int length) {
    byte[] out = new byte[length];
    long position = offset;
    int done = 0;
    while (done < length) {
      long pageIndex = position / PAGE;
      int inPage = (int) (position % PAGE);
      int n = Math.min(PAGE - inPage, length - done);
      byte[] page = pages.get(pageIndex);
      if (page != null) {
        System.arraycopy(page, inPage, out, done, n);
      }
      done += n;
      position += n;
    }
    return out;
  }

  void write(long offset, byte[] data) {
    long position = offset;
    int done = 0;
    while (done < data.length) {
      long pageIndex = position / PAGE;
      int inPage = (int) (position % PAGE);
      int n = Math.min(PAGE - inPage, data.length - done);
      byte[] page = pages.get(pageIndex);
      if (page == null) {
        if (allZero(data, done, n)) {
          done += n;
          position += n;
          continue;
        }
        page = new byte[PAGE];
        pages.put(pageIndex, page);
      }
      System.arraycopy(data, done, page, inPage, n);
      if (allZero(page, 0, PAGE)) {
        pages.remove(pageIndex);
      }
      done += n;
      position += n;
    }
  }

  long nextData(long from, long size) {
    Map.Entry<Long, byte[]> entry = pages.ceilingEntry(from / PAGE);
    if (entry == null) {
      return size;
    }
    return Math.min(size, Math.max(from, entry.getKey() * PAGE));
  }

  /** Pages held in memory (to show that big disks cost nothing until written). */
  int pagesInMemory() {
    return pages.size();
  }

  private static boolean allZero(byte[] bytes, int from, int length) {
    for (int i = from; i < from + length; i++) {
      if (bytes[i] != 0) {
        return false;
      }
    }
    return true;
  }

  @Override
  public String toString() {
    return "SparseStore" + Arrays.toString(pages.keySet().toArray());
  }
}
