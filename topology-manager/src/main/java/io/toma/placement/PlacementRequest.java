package io.toma.placement;

import io.toma.topology.FailureDomainLevel;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * What to place: {@code slots} members of {@code extentBytes} each, never two members of one leg
 * in the same failure domain at {@code level}. {@code domainsInUse} holds, per leg, the domains its
 * surviving members already occupy (empty for a new volume; the survivors' domains for a
 * replacement). {@code excludedDisks} are never chosen (a disk that just refused, a lost disk).
 * {@code mayUseReserve}: re-protection may eat into the spare reserve; a new volume may not.
 */
public record PlacementRequest(
    String volumeId,
    List<MemberSlot> slots,
    long extentBytes,
    int replicasPerLeg,
    FailureDomainLevel level,
    Map<Integer, Set<String>> domainsInUse,
    Set<String> excludedDisks,
    boolean mayUseReserve) {

  public PlacementRequest {
    slots = List.copyOf(slots);
    domainsInUse = Map.copyOf(domainsInUse);
    excludedDisks = Set.copyOf(excludedDisks);
  }

  /** Every member of a new volume of {@code legs} x {@code replicas}. */
  public static PlacementRequest forNewVolume(
      String volumeId, int legs, int replicas, long extentBytes, FailureDomainLevel level,
      Set<String> excludedDisks) {
    List<MemberSlot> slots = new java.util.ArrayList<>();
    for (int leg = 0; leg < legs; leg++) {
      for (int replica = 0; replica < replicas; replica++) {
        slots.add(new MemberSlot(leg, replica));
      }
    }
    return new PlacementRequest(
        volumeId, slots, extentBytes, replicas, level, Map.of(), excludedDisks, false);
  }
}
