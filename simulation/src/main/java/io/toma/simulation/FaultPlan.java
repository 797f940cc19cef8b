package io.toma.simulation;

import java.util.ArrayList;
import java.util.List;
import java.util.Random;

/**
 * When each fault strikes and how long it lasts, drawn from the seed. Targets are chosen when the
 * fault strikes (from the same seeded source), so a link cut can aim at a link a volume uses.
 * Faults follow one another with room for repairs in between: every fault is within the
 * redundancy the layouts promise, so a lost write is a bug, not bad luck.
 */
public record FaultPlan(List<Planned> faults, long quietFromMillis) {

  /** One fault: when, what, and after how long it heals (0 for an instant or a permanent fault). */
  public record Planned(long atMillis, FaultKind kind, long durationMillis) {}

  public FaultPlan {
    faults = List.copyOf(faults);
  }

  public static FaultPlan random(Random random, Options options) {
    List<FaultKind> kinds = options.faultKinds().stream().sorted().toList();
    int count = kinds.isEmpty() ? 0
        : options.minFaults() + random.nextInt(options.maxFaults() - options.minFaults() + 1);
    List<Planned> faults = new ArrayList<>();
    long t = options.setup().toMillis();
    boolean diskDied = false;
    for (int i = 0; i < count; i++) {
      FaultKind kind = kinds.get(random.nextInt(kinds.size()));
      if (kind == FaultKind.DISK_DEATH && diskDied) {
        kind = kinds.size() > 1 ? kinds.get((kinds.indexOf(kind) + 1) % kinds.size()) : kind;
        if (kind == FaultKind.DISK_DEATH) {
          break;
        }
      }
      diskDied |= kind == FaultKind.DISK_DEATH;
      long at = t + random.nextInt(2000);
      long duration = switch (kind) {
        case DISK_DEATH, MANAGER_RESTART -> 0;
        default -> 2_000 + random.nextInt(8_000);
      };
      faults.add(new Planned(at, kind, duration));
      t = at + duration + options.faultSpacing().toMillis();
    }
    long quiet = faults.isEmpty() ? options.setup().toMillis()
        : faults.get(faults.size() - 1).atMillis() + faults.get(faults.size() - 1).durationMillis();
    return new FaultPlan(faults, quiet);
  }
}
