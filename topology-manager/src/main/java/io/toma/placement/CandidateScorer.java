package io.toma.placement;

/** One concern of placement, scored; higher is better. Scores of several scorers add by weight. */
public interface CandidateScorer {

  double score(DiskCandidate candidate);

  /** Greedy by free bytes: with mixed disk sizes, spare space stays even and rebuilds fan out. */
  static CandidateScorer mostFreeBytes() {
    return c -> (double) c.freeAfterPromises();
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
