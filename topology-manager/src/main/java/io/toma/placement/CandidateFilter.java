package io.toma.placement;

import java.util.Optional;

/** One reason a disk may not take a member; says why when it rejects (LINSTOR autoplacer style). */
public interface CandidateFilter {

  /** Why this disk cannot take a member of the request, or empty when it can. */
  Optional<String> rejects(DiskCandidate candidate, PlacementRequest request);
}
