package io.toma.placement;

import io.toma.topology.DiskFacts;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.function.ToDoubleFunction;

/**
 * Places leg members on disks: filter (each filter says why it rejects), score (weighted
 * scorers), select the best disk whose failure domain the leg does not use yet. Pure: the same
 * inputs give the same answer.
 *
 * <p>Ties break on disk id, except in a placer that spreads ({@link #forNewVolumes}): there ties
 * and near-ties (scores within {@code nearTie(request)} of the best) break on a hash of (volume,
 * slot, disk). Creates running at once read the same capacity view, and a fixed tie-break sent
 * them all to the same few disks, whose entities then granted one at a time. The hash spreads them
 * over the near-best disks and is still a function of the inputs alone.
 */
public final class DiskPlacer {

  public record WeightedScorer(CandidateScorer scorer, double weight) {}

  private final List<CandidateFilter> filters;
  private final List<WeightedScorer> scorers;
  private final Optional<ToDoubleFunction<PlacementRequest>> nearTie;

  /** Ties break on disk id. */
  public DiskPlacer(List<CandidateFilter> filters, List<WeightedScorer> scorers) {
    this(filters, scorers, Optional.empty());
  }

  /** With {@code nearTie}: scores within its value of the best count as tied and break on a per-volume hash. */
  public DiskPlacer(List<CandidateFilter> filters, List<WeightedScorer> scorers,
      Optional<ToDoubleFunction<PlacementRequest>> nearTie) {
    this.filters = List.copyOf(filters);
    this.scorers = List.copyOf(scorers);
    this.nearTie = nearTie;
  }

  /** Standard filters, greedy by free bytes, ties on disk id (the simulation's healing shell uses it). */
  public static DiskPlacer greedyByFreeSpace(double reserveFraction) {
    return new DiskPlacer(
        CandidateFilters.standard(reserveFraction),
        List.of(new WeightedScorer(CandidateScorer.mostFreeBytes(), 1.0)));
  }

  /**
   * The production policy for new volumes: greedy by free bytes, and disks within one extent of
   * the most free count as tied and are spread by volume (free space stays balanced to about one
   * extent, which is all the capacity view's freshness allows anyway under concurrent creates).
   */
  public static DiskPlacer forNewVolumes(double reserveFraction) {
    return new DiskPlacer(
        CandidateFilters.standard(reserveFraction),
        List.of(new WeightedScorer(CandidateScorer.mostFreeBytes(), 1.0)),
        Optional.of(PlacementRequest::extentBytes));
  }

  /**
   * The policy for re-protection: standard filters, the disk that has received the fewest bytes
   * of replacements first, most free bytes as the tie-break ({@link
   * CandidateScorer#leastRepairBytes}). Greedy by free space alone let one survivor take two or
   * three large members while the mean was one (max / mean 1.8 after a disk loss, docs/benchmarks.md §3).
   */
  public static DiskPlacer forReprotection(double reserveFraction, Map<String, Long> repairBytesByDisk) {
    return new DiskPlacer(
        CandidateFilters.standard(reserveFraction),
        List.of(new WeightedScorer(CandidateScorer.leastRepairBytes(repairBytesByDisk), 1.0)));
  }

  public PlacementOutcome place(
      PlacementRequest request, List<DiskFacts> disks, Set<String> cordonedNodes) {
    Map<String, Long> promised = new HashMap<>();
    Map<Integer, Set<String>> domainsByLeg = new HashMap<>();
    request.domainsInUse().forEach((leg, used) -> domainsByLeg.put(leg, new HashSet<>(used)));
    List<PlacementOutcome.ChosenMember> chosen = new ArrayList<>();
    List<DiskFacts> sorted = new ArrayList<>(disks);
    sorted.sort(Comparator.comparing(DiskFacts::diskId));

    for (MemberSlot slot : request.slots()) {
      Set<String> legDomains = domainsByLeg.computeIfAbsent(slot.leg(), l -> new HashSet<>());
      List<DiskCandidate> qualifying = new ArrayList<>();
      List<Double> scores = new ArrayList<>();
      double bestScore = Double.NEGATIVE_INFINITY;
      for (DiskFacts disk : sorted) {
        DiskCandidate candidate =
            new DiskCandidate(disk, cordonedNodes.contains(disk.nodeId()), promised.getOrDefault(disk.diskId(), 0L));
        if (firstRejection(candidate, request).isPresent()) {
          continue;
        }
        if (legDomains.contains(domainOf(disk, request))) {
          continue;
        }
        double score = score(candidate);
        qualifying.add(candidate);
        scores.add(score);
        bestScore = Math.max(bestScore, score);
      }
      Optional<DiskCandidate> best = Optional.empty();
      if (nearTie.isEmpty()) {
        // candidates are in disk id order: the first best wins
        for (int i = 0; i < qualifying.size() && best.isEmpty(); i++) {
          if (scores.get(i) == bestScore) {
            best = Optional.of(qualifying.get(i));
          }
        }
      } else {
        double window = Math.max(0, nearTie.get().applyAsDouble(request));
        long bestHash = Long.MAX_VALUE;
        for (int i = 0; i < qualifying.size(); i++) {
          if (scores.get(i) < bestScore - window) {
            continue;
          }
          long hash = spreadHash(request.volumeId(), slot, qualifying.get(i).disk().diskId());
          if (hash < bestHash) {
            bestHash = hash;
            best = Optional.of(qualifying.get(i));
          }
        }
      }
      if (best.isEmpty()) {
        return new PlacementOutcome.Refused(explain(request, slot, sorted, cordonedNodes, promised, legDomains));
      }
      DiskFacts disk = best.get().disk();
      promised.merge(disk.diskId(), request.extentBytes(), Long::sum);
      legDomains.add(domainOf(disk, request));
      chosen.add(new PlacementOutcome.ChosenMember(slot, disk));
    }
    return new PlacementOutcome.Chosen(chosen);
  }

  /**
   * A well-mixed hash of (volume, slot, disk): stable across runs and JVMs (String.hashCode is
   * specified), different per volume, so concurrent creates pick different near-best disks.
   */
  static long spreadHash(String volumeId, MemberSlot slot, String diskId) {
    long h = volumeId.hashCode() * 0x9E3779B97F4A7C15L;
    h = (h ^ (slot.leg() * 31L + slot.replica())) * 0xBF58476D1CE4E5B9L;
    h = (h ^ diskId.hashCode()) * 0x94D049BB133111EBL;
    h ^= h >>> 31;
    return h & Long.MAX_VALUE;
  }

  private Optional<String> firstRejection(DiskCandidate candidate, PlacementRequest request) {
    for (CandidateFilter filter : filters) {
      Optional<String> why = filter.rejects(candidate, request);
      if (why.isPresent()) {
        return why;
      }
    }
    return Optional.empty();
  }

  private double score(DiskCandidate candidate) {
    double total = 0;
    for (WeightedScorer ws : scorers) {
      total += ws.weight() * ws.scorer().score(candidate);
    }
    return total;
  }

  private static String domainOf(DiskFacts disk, PlacementRequest request) {
    return request.level().domainOf(disk.nodeId(), disk.rack(), disk.zone());
  }

  /**
   * The refusal message: how many domains the leg needs, which qualify, and why the others'
   * disks were rejected (counted by reason), e.g. "replicas=3 at level rack needs 3 racks with
   * 512 GiB free each; 2 qualify: r1, r2".
   */
  private String explain(
      PlacementRequest request,
      MemberSlot slot,
      List<DiskFacts> disks,
      Set<String> cordonedNodes,
      Map<String, Long> promised,
      Set<String> legDomains) {
    Set<String> qualifying = new TreeSet<>();
    Map<String, Integer> reasons = new TreeMap<>();
    for (DiskFacts disk : disks) {
      DiskCandidate candidate =
          new DiskCandidate(disk, cordonedNodes.contains(disk.nodeId()), promised.getOrDefault(disk.diskId(), 0L));
      Optional<String> why = firstRejection(candidate, request);
      if (why.isPresent()) {
        reasons.merge(why.get().replaceAll(" \\(.*\\)$", ""), 1, Integer::sum);
      } else {
        qualifying.add(domainOf(disk, request));
      }
    }
    String level = request.level().label();
    int needed = request.replicasPerLeg();
    StringBuilder message = new StringBuilder();
    message
        .append("replicas=").append(needed)
        .append(" at level ").append(level)
        .append(" needs ").append(needed).append(' ').append(level).append(needed == 1 ? "" : "s")
        .append(" with ").append(Bytes.human(request.extentBytes())).append(" free each; ")
        .append(qualifying.size()).append(" qualif").append(qualifying.size() == 1 ? "ies" : "y");
    if (!qualifying.isEmpty()) {
      message.append(": ").append(String.join(", ", qualifying));
    }
    Set<String> taken = new TreeSet<>(legDomains);
    taken.retainAll(qualifying);
    if (!taken.isEmpty()) {
      message.append(" (leg ").append(slot.leg()).append(" already uses ").append(String.join(", ", taken)).append(')');
    }
    if (!reasons.isEmpty()) {
      List<String> parts = new ArrayList<>();
      reasons.forEach((why, count) -> parts.add(count + " " + why));
      message.append("; disks rejected: ").append(String.join(", ", parts));
    }
    if (disks.isEmpty()) {
      message.append("; no disk registered");
    }
    return message.toString();
  }
}
