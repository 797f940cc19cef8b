package io.toma.placement;

/** One concern of placement, scored; higher is better. Scores of several scorers add by weight. */
public interface CandidateScorer {

  double score(DiskCandidate candidate);

  /** Greedy by free bytes: with mixed disk sizes, spare space stays even and rebuilds fan out. */
  static CandidateScorer mostFreeBytes() {
    return c -> (double) c.freeAfterPromises();
  }

  /**
   * Re-protection: the disk that received the fewest bytes of replacements first, then the most
   * free. Lexicographic in one double: both in MiB (extents are MiB-aligned), the received bytes
   * weighted by 2^24, above any disk's free MiB up to 16 TiB; exact below 2^53 (512 PiB received).
   * The map is an input (from the capacity view), so the scorer stays a pure function.
   */
  static CandidateScorer leastRepairBytes(java.util.Map<String, Long> repairBytesByDisk) {
    return c -> {
      long receivedMib = repairBytesByDisk.getOrDefault(c.disk().diskId(), 0L) >> 20;
      long freeMib = Math.min(Math.max(0, c.freeAfterPromises()) >> 20, (1L << 24) - 1);
      return -(double) receivedMib * (1L << 24) + freeMib;
    };
  }

  /** Reference policy only (the Qumulo lesson): fill the most used disk first. */
  static CandidateScorer mostUsedFirst() {
    return c -> (double) (c.disk().sizeBytes() - c.freeAfterPromises());
  }

  /** Reference policy only: greedy by used bytes (least used first), the pre-fix Qumulo rule. */
  static CandidateScorer leastUsedBytes() {
    return c -> -(double) (c.disk().sizeBytes() - c.freeAfterPromises());
  }
}
