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

/**
 * Places leg members on disks: filter (each filter says why it rejects), score (weighted
 * scorers), select the best disk whose failure domain the leg does not use yet. Pure: the same
 * inputs give the same answer; ties break on disk id.
 */
public final class DiskPlacer {

  public record WeightedScorer(CandidateScorer scorer, double weight) {}

  private final List<CandidateFilter> filters;
  private final List<WeightedScorer> scorers;

  public DiskPlacer(List<CandidateFilter> filters, List<WeightedScorer> scorers) {
    this.filters = List.copyOf(filters);
    this.scorers = List.copyOf(scorers);
  }

  /** The production policy: standard filters, greedy by free bytes. */
  public static DiskPlacer greedyByFreeSpace(double reserveFraction) {
    return new DiskPlacer(
        CandidateFilters.standard(reserveFraction),
        List.of(new WeightedScorer(CandidateScorer.mostFreeBytes(), 1.0)));
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
      Optional<DiskCandidate> best = Optional.empty();
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
        if (score > bestScore) {
          bestScore = score;
          best = Optional.of(candidate);
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
