package io.toma.healing;

import io.toma.persistence.CborSerializable;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Optional;

/**
 * What an operator sees of a volume: {@code Online}, {@code Degraded} (a member lost, not yet
 * copying; or a failover under way), {@code Rebuilding} (a new member copying, with its percentage)
 * or {@code Unavailable} (a leg without any in-sync member, or a failover that found nothing safe
 * to promote), with a reason in words.
 */
public final class VolumeHealth {
  private VolumeHealth() {}

  public enum Status {
    ONLINE,
    DEGRADED,
    REBUILDING,
    UNAVAILABLE
  }

  public enum Condition {
    IN_SYNC,
    /** A new member copying data (or an old one re-added and resyncing). */
    SYNCING,
    /** Gone and not copying yet: waiting for a replacement, or for a cap. */
    LOST
  }

  public record MemberState(int slot, Condition condition, int syncPercent) {
    public static MemberState inSync(int slot) {
      return new MemberState(slot, Condition.IN_SYNC, 100);
    }

    public static MemberState lost(int slot) {
      return new MemberState(slot, Condition.LOST, 0);
    }

    public static MemberState syncing(int slot, int percent) {
      return new MemberState(slot, Condition.SYNCING, percent);
    }

    /** The member a rebuild stands for, at its current stage. */
    public static MemberState of(Rebuild.State rebuild) {
      int slot = rebuild.lost().slot();
      return switch (rebuild.stage()) {
        case MEMBER_LOST, REPLACEMENT_REQUESTED, REPLACEMENT_GRANTED -> lost(slot);
        case ATTACHED, SYNCING -> syncing(slot, rebuild.syncPercent());
        case IN_SYNC, OLD_EXTENT_RELEASED, DONE -> inSync(slot);
      };
    }
  }

  public record LegState(int leg, List<MemberState> members) {
    public LegState {
      members = List.copyOf(members);
    }
  }

  public record Health(Status status, String reason, Optional<Integer> syncPercent)
      implements CborSerializable {
    public static Health online() {
      return new Health(Status.ONLINE, "every leg has all its members in sync", Optional.empty());
    }
  }

  public static Health of(Collection<LegState> legs, Optional<Failover.State> failover) {
    List<String> unavailable = new ArrayList<>();
    List<String> syncing = new ArrayList<>();
    List<String> lost = new ArrayList<>();
    int percentSum = 0;
    int syncingCount = 0;
    for (LegState leg : legs) {
      boolean anyInSync = leg.members().stream().anyMatch(m -> m.condition() == Condition.IN_SYNC);
      if (!anyInSync) {
        unavailable.add("leg " + leg.leg() + " has no member in sync");
      }
      for (MemberState m : leg.members()) {
        if (m.condition() == Condition.SYNCING) {
          syncing.add("leg " + leg.leg() + " slot " + m.slot() + " at " + m.syncPercent() + "%");
          percentSum += m.syncPercent();
          syncingCount++;
        } else if (m.condition() == Condition.LOST) {
          lost.add("leg " + leg.leg() + " slot " + m.slot() + " lost");
        }
      }
    }
    Optional<Failover.State> active = failover.filter(f -> f.stage() != Failover.Stage.DONE);
    if (active.isPresent() && active.get().stage() == Failover.Stage.UNAVAILABLE) {
      unavailable.add(0, "failover: " + active.get().outcome().orElse("no controller"));
    }
    if (!unavailable.isEmpty()) {
      return new Health(Status.UNAVAILABLE, String.join("; ", unavailable), Optional.empty());
    }
    List<String> degraded = new ArrayList<>();
    active.ifPresent(f -> degraded.add("failing over from " + f.failedController() + " ("
        + f.stage().name().toLowerCase().replace('_', ' ') + ")"));
    if (!syncing.isEmpty()) {
      List<String> reasons = new ArrayList<>(degraded);
      reasons.addAll(syncing);
      reasons.addAll(lost);
      return new Health(Status.REBUILDING, "rebuilding " + String.join("; ", reasons),
          Optional.of(percentSum / syncingCount));
    }
    degraded.addAll(lost);
    if (!degraded.isEmpty()) {
      return new Health(Status.DEGRADED, String.join("; ", degraded), Optional.empty());
    }
    return Health.online();
  }
}
