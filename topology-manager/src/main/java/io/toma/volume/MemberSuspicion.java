package io.toma.volume;

import com.fasterxml.jackson.annotation.JsonSubTypes;
import com.fasterxml.jackson.annotation.JsonTypeInfo;
import io.toma.persistence.CborSerializable;
import io.toma.topology.ReplicaPlacement;
import io.toma.topology.TomaEvent;
import io.toma.topology.VolumePlacement;
import io.toma.volume.VolumeDecider.Steps;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;

/**
 * A member the active's raid1 marked failed ({@code D}) is a <em>suspect</em>, not a loss (issue 6,
 * DESIGN §4: no full rebuild for a blip). While the grace window runs, the member is re-added:
 * dm-raid does not take a failed member back by itself, a table reload does, so the leg's raid1
 * table on the active gets {@code rebuild <slot>} for the member's own devices (a reload the kernel
 * accepts for a device that already belongs to the set; recipes). Its resync to {@code A} ends the
 * suspicion ("member re-added"); the plain table then comes back (accepted with no new resync). A
 * re-add whose reload finds the path still down fails ({@code D} again, or no resync a gap after
 * the active applied it): the plain table comes back and another attempt follows after
 * {@link #retryGap}. Attempts are paced by reports and by ticks (an agent reports a raid1 when its
 * health changes, so a member that stays failed says nothing more). A member still failed when the window
 * has passed since it was first seen failed is declared lost, and rebuilt elsewhere as before.
 *
 * <p>Pure: the decider feeds raid reports and ticks with the time. The suspicion is persisted
 * (events below), so a manager restart keeps its window: it neither restarts nor is lost.
 */
public final class MemberSuspicion {
  private MemberSuspicion() {}

  /**
   * One suspect: the active controller that saw it failed, when it was first seen failed, when the
   * last re-add was asked, whether a re-add is in the table now and whether it is resyncing.
   */
  public record Suspect(String observer, long sinceMillis, long lastAttemptMillis, boolean readding, boolean resyncing)
      implements CborSerializable {}

  /** What happened to a suspect: persisted inside {@link SuspicionStep}. */
  @JsonTypeInfo(use = JsonTypeInfo.Id.NAME, property = "type")
  @JsonSubTypes({
    @JsonSubTypes.Type(Suspected.class),
    @JsonSubTypes.Type(ReaddRequested.class),
    @JsonSubTypes.Type(Resyncing.class),
    @JsonSubTypes.Type(ReaddFailed.class),
    @JsonSubTypes.Type(Ended.class)
  })
  public sealed interface Change extends CborSerializable {
    String tag();

    /** Whether the leg's raid1 table on the active changes (a re-add starts or stops). */
    default boolean changesTable() {
      return true;
    }
  }

  public record Suspected(String tag, String observer, long sinceMillis, String reason) implements Change {
    @Override
    public boolean changesTable() {
      return false;
    }
  }

  public record ReaddRequested(String tag, long atMillis) implements Change {}

  public record Resyncing(String tag) implements Change {
    @Override
    public boolean changesTable() {
      return false;
    }
  }

  public record ReaddFailed(String tag) implements Change {}

  /** The suspicion is over: re-added and in sync, declared lost, or moot (its member or observer went). */
  public record Ended(String tag, boolean readded, String why) implements Change {}

  /** The volume's event carrying one change. */
  public record SuspicionStep(Change event) implements VolumeRecord.Event {}

  /** Folds a change into the suspects (inside {@link VolumeRecord#apply}). */
  static void apply(Map<String, Suspect> suspects, Change change) {
    Suspect s = suspects.get(change.tag());
    if (change instanceof Suspected n) {
      suspects.put(n.tag(), new Suspect(n.observer(), n.sinceMillis(), n.sinceMillis(), false, false));
    } else if (s == null) {
      return;
    } else if (change instanceof ReaddRequested r) {
      suspects.put(r.tag(), new Suspect(s.observer(), s.sinceMillis(), r.atMillis(), true, false));
    } else if (change instanceof Resyncing) {
      suspects.put(change.tag(), new Suspect(s.observer(), s.sinceMillis(), s.lastAttemptMillis(), s.readding(), true));
    } else if (change instanceof ReaddFailed) {
      suspects.put(change.tag(), new Suspect(s.observer(), s.sinceMillis(), s.lastAttemptMillis(), false, false));
    } else if (change instanceof Ended) {
      suspects.remove(change.tag());
    }
  }

  /** The tags whose raid1 slot carries {@code rebuild}: replacements, and members being re-added. */
  static Set<String> withReadding(Set<String> rebuilding, Map<String, Suspect> suspects, Set<String> missing) {
    Set<String> out = new TreeSet<>(rebuilding);
    suspects.forEach((tag, s) -> {
      if (s.readding() && !missing.contains(tag)) {
        out.add(tag);
      }
    });
    return out;
  }

  static String describe(Map<String, Suspect> suspects) {
    return "member(s) failed in raid1, re-added if back within the grace window: "
        + String.join(", ", suspects.entrySet().stream().map(e -> e.getKey() + " (seen by " + e.getValue().observer()
            + (e.getValue().resyncing() ? ", resyncing" : e.getValue().readding() ? ", re-adding" : "") + ")").toList());
  }

  /** Between two re-add attempts of one member: a fifth of the window (2 s with the default 10 s). */
  static long retryGap(DecisionContext ctx) {
    return Math.max(1, ctx.healing().graceWindow().toMillis() / 5);
  }

  // ---- decisions ----

  /**
   * The active's raid1 report for one leg: {@code health} by slot, for the table it holds now
   * ({@code current}: it applied its desired revision). A healthy peer is required to suspect a
   * member at all (never give up the last copies of a leg on a raid report alone).
   */
  static void onLegReport(Steps s, String observer, List<ReplicaPlacement> members, String health, boolean current) {
    long now = s.ctx.nowMillis();
    for (ReplicaPlacement m : members) {
      if (m.replica() >= health.length()) {
        continue;
      }
      char c = health.charAt(m.replica());
      Suspect suspect = s.state.suspects().get(m.tag());
      if (suspect == null) {
        if (c == 'D' && current && eligible(s.state, m) && healthyPeer(s.state, members, health, m)) {
          String reason = "raid1 on " + observer + " marked " + m.tag() + " failed";
          s.emit(new SuspicionStep(new Suspected(m.tag(), observer, now, reason)));
          s.publish(TomaEvent.FAULT_DETECTED, reason + ": suspect, re-added if its path is back within "
              + s.ctx.healing().graceWindow().toSeconds() + " s, else rebuilt");
        }
        continue;
      }
      if (!current) {
        continue; // the table a re-add asked for is not in place yet: what it says is stale
      }
      if (c == 'A') {
        end(s, m.tag(), true, "member " + m.tag() + " re-added and resynced");
      } else if (c == 'a' && !suspect.resyncing()) {
        s.emit(new SuspicionStep(new Resyncing(m.tag())));
      } else if (c == 'D') {
        if (now - suspect.sinceMillis() >= s.ctx.healing().graceWindow().toMillis()) {
          declareLost(s, m, suspect, members);
        } else if (suspect.readding()) {
          s.emit(new SuspicionStep(new ReaddFailed(m.tag()))); // the path is still down: plain table again
          VolumeDecider.sendPending(s);
        } else if (now - suspect.lastAttemptMillis() >= retryGap(s.ctx)) {
          requestReadd(s, m.tag(), observer);
        }
      }
    }
  }

  /**
   * Time passes: a suspect past its window that is not resyncing is declared lost even when no
   * report comes (an active that cannot apply the re-add stays behind and its reports are stale);
   * a suspect whose member left the placement or was lost otherwise, or whose observer is no
   * longer the active, is moot.
   */
  static void onTick(Steps s) {
    VolumeRecord state = s.state;
    if (state.suspects().isEmpty() || state.placement().isEmpty()) {
      return;
    }
    VolumePlacement p = state.placement().get();
    String active = VolumeHealer.activeController(state);
    for (Map.Entry<String, Suspect> e : new TreeMap<>(state.suspects()).entrySet()) {
      Optional<ReplicaPlacement> member = p.replicas().stream().filter(m -> m.tag().equals(e.getKey())).findFirst();
      Suspect suspect = e.getValue();
      if (member.isEmpty() || !eligible(state, member.get()) || !suspect.observer().equals(active)
          || state.healing().failingOver()) {
        end(s, e.getKey(), false, "suspicion of " + e.getKey() + " moot");
      } else if (!suspect.resyncing()
          && s.ctx.nowMillis() - suspect.sinceMillis() >= s.ctx.healing().graceWindow().toMillis()) {
        declareLost(s, member.get(), suspect,
            p.replicas().stream().filter(m -> m.leg() == member.get().leg()).toList());
      } else if (!suspect.resyncing() && s.ctx.nowMillis() - suspect.lastAttemptMillis() >= retryGap(s.ctx)) {
        // an agent reports a raid1 when its health changes: a member that stays failed says nothing more
        if (!suspect.readding()) {
          requestReadd(s, e.getKey(), active);
        } else if (!state.nodesBehind().contains(active)) {
          s.emit(new SuspicionStep(new ReaddFailed(e.getKey()))); // applied a gap ago and not resyncing
          VolumeDecider.sendPending(s);
        }
      }
    }
  }

  private static void requestReadd(Steps s, String tag, String observer) {
    s.emit(new SuspicionStep(new ReaddRequested(tag, s.ctx.nowMillis())));
    s.publish(TomaEvent.REPAIR_STEP, "re-adding member " + tag + " (raid1 table reload on " + observer + ")");
    VolumeDecider.sendPending(s);
  }

  private static void declareLost(Steps s, ReplicaPlacement m, Suspect suspect, List<ReplicaPlacement> leg) {
    boolean peer = leg.stream().anyMatch(o -> !o.tag().equals(m.tag()) && eligible(s.state, o)
        && !s.state.suspects().containsKey(o.tag()));
    if (!peer) {
      return; // every other copy is doubtful too: never give up the last copies of a leg
    }
    end(s, m.tag(), false, "still failed after the grace window");
    VolumeHealer.diskLost(s, m.diskId(), "raid1 on " + suspect.observer() + " marked " + m.tag()
        + " failed and it was not back within the grace window");
  }

  private static void end(Steps s, String tag, boolean readded, String why) {
    boolean wasReadding = s.state.suspects().get(tag).readding();
    s.emit(new SuspicionStep(new Ended(tag, readded, why)));
    if (readded) {
      s.publish(TomaEvent.REPAIR_STEP, "member " + tag + " re-added (resynced, no rebuild)");
    }
    if (wasReadding) {
      VolumeDecider.sendPending(s); // the slot loses its rebuild again
    }
  }

  /** Neither lost nor a replacement still rebuilding: a member whose raid health says something of it. */
  private static boolean eligible(VolumeRecord state, ReplicaPlacement m) {
    return !state.lostDisks().containsKey(m.diskId()) && !state.healing().rebuildingTags().contains(m.tag())
        && !state.healing().lostNodes().contains(m.nodeId());
  }

  private static boolean healthyPeer(VolumeRecord state, List<ReplicaPlacement> members, String health,
      ReplicaPlacement m) {
    return members.stream().anyMatch(o -> !o.tag().equals(m.tag()) && o.replica() < health.length()
        && health.charAt(o.replica()) == 'A' && eligible(state, o) && !state.suspects().containsKey(o.tag()));
  }
}
