package io.toma.placement;

import java.util.List;
import java.util.Optional;

/** The standard filters: healthy, not cordoned, not excluded, room for the extent above the reserve. */
public final class CandidateFilters {
  private CandidateFilters() {}

  public static CandidateFilter healthy() {
    return (c, r) -> c.disk().healthy() ? Optional.empty() : Optional.of("disk unhealthy");
  }

  public static CandidateFilter notCordoned() {
    return (c, r) -> c.nodeCordoned() ? Optional.of("node cordoned") : Optional.empty();
  }

  public static CandidateFilter notExcluded() {
    return (c, r) ->
        r.excludedDisks().contains(c.disk().diskId())
            ? Optional.of("excluded (refused or lost)")
            : Optional.empty();
  }

  /**
   * Room for one extent, keeping {@code reserveFraction} of the disk free for re-protection
   * unless the request may use the reserve (a rebuild is what the reserve is for).
   */
  public static CandidateFilter hasRoom(double reserveFraction) {
    return (c, r) -> {
      long reserve = r.mayUseReserve() ? 0 : (long) Math.ceil(c.disk().sizeBytes() * reserveFraction);
      long room = c.freeAfterPromises() - reserve;
      return room >= r.extentBytes()
          ? Optional.empty()
          : Optional.of("full (" + Bytes.human(Math.max(0, room)) + " usable)");
    };
  }

  public static List<CandidateFilter> standard(double reserveFraction) {
    return List.of(healthy(), notCordoned(), notExcluded(), hasRoom(reserveFraction));
  }
}
