package io.toma.healing;

import com.fasterxml.jackson.annotation.JsonSubTypes;
import com.fasterxml.jackson.annotation.JsonTypeInfo;
import io.toma.healing.Refs.ExtentRef;
import io.toma.healing.Refs.MemberRef;
import io.toma.persistence.CborSerializable;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * The re-protection of one lost leg member (one raid1 slot), as a persisted stage machine:
 *
 * <pre>
 * MemberLost → ReplacementRequested → ReplacementGranted(extent) → Attached(rebuild slot)
 *   → Syncing(percent)… → InSync → OldExtentReleased → Done
 * </pre>
 *
 * <p>A refused replacement (no capacity in another failure domain) goes back to
 * {@link Stage#MEMBER_LOST}, pending, with the refusal as its reason; so does a replacement whose
 * own node is lost before it is in sync (its extent is released). Stage {@code MEMBER_LOST} is
 * what {@link RepairScheduler} schedules: it sends {@link Begin} when caps allow.
 *
 * <p>The old extent is released only once the controller reported the new member in sync
 * <em>and</em> the old member is out of the controller's kernel (raid table and fabric
 * connection): until then it may still be the copy some read is served from, and a released extent
 * can be granted to another volume at once. {@link SafetyOverrides#releaseOldExtentBeforeInSync()}
 * breaks this on purpose, for the simulation's checker tests.
 *
 * <p>Same contract as {@link Failover}: persist {@link Result#events()}, apply each with
 * {@link State#apply(Event)}, then perform {@link Result#actions()}; after recovery call
 * {@link #resume}.
 */
public final class Rebuild {
  private Rebuild() {}

  public enum Stage {
    MEMBER_LOST,
    REPLACEMENT_REQUESTED,
    REPLACEMENT_GRANTED,
    ATTACHED,
    SYNCING,
    IN_SYNC,
    OLD_EXTENT_RELEASED,
    DONE
  }

  // ---- inputs ----

  public sealed interface Input permits Begin, Granted, Refused, AttachApplied, SyncProgress,
      SyncComplete, OldMemberRemoved, ExtentReleaseConfirmed, ReplacementLost {}

  /** The scheduler lets this repair start: ask placement for a replacement. */
  public record Begin() implements Input {}

  /** A PhysicalDisk granted the replacement extent. */
  public record Granted(ExtentRef extent) implements Input {}

  /** Placement found no replacement (reason says why). */
  public record Refused(String reason) implements Input {}

  /** The controller applied the revision with the new member in {@code slot} (rebuild slot). */
  public record AttachApplied(int slot) implements Input {}

  /** The controller's raid1 status: the new member is at {@code percent} of its resync. */
  public record SyncProgress(int percent) implements Input {}

  /** The controller's raid1 status shows the new member alive and in sync (A, idle). */
  public record SyncComplete() implements Input {}

  /** The controller applied a revision that no longer references the old member. */
  public record OldMemberRemoved() implements Input {}

  /** The old extent's PhysicalDisk recorded it free. */
  public record ExtentReleaseConfirmed(ExtentRef extent) implements Input {}

  /** The replacement's own node or disk was lost before the member was in sync. */
  public record ReplacementLost(String reason) implements Input {}

  // ---- events ----

  @JsonTypeInfo(use = JsonTypeInfo.Id.NAME, property = "type")
  @JsonSubTypes({
    @JsonSubTypes.Type(MemberLost.class),
    @JsonSubTypes.Type(ReplacementRequested.class),
    @JsonSubTypes.Type(ReplacementRefused.class),
    @JsonSubTypes.Type(ReplacementGranted.class),
    @JsonSubTypes.Type(Attached.class),
    @JsonSubTypes.Type(Syncing.class),
    @JsonSubTypes.Type(InSync.class),
    @JsonSubTypes.Type(OldMemberDetached.class),
    @JsonSubTypes.Type(ReplacementAbandoned.class),
    @JsonSubTypes.Type(OldExtentReleased.class),
    @JsonSubTypes.Type(Done.class)
  })
  public sealed interface Event extends CborSerializable
      permits MemberLost, ReplacementRequested, ReplacementRefused, ReplacementGranted, Attached,
          Syncing, InSync, OldMemberDetached, ReplacementAbandoned, OldExtentReleased, Done {}

  public record MemberLost(MemberRef member, String reason, long atMillis) implements Event {}

  public record ReplacementRequested(int attempt) implements Event {}

  public record ReplacementRefused(String reason) implements Event {}

  public record ReplacementGranted(ExtentRef extent) implements Event {}

  public record Attached(int rebuildSlot, ExtentRef extent) implements Event {}

  public record Syncing(int percent) implements Event {}

  public record InSync() implements Event {}

  /** The old member is out of the controller's kernel. */
  public record OldMemberDetached() implements Event {}

  /** The replacement was lost before it was in sync; it is released and the repair pending. */
  public record ReplacementAbandoned(ExtentRef extent, String reason) implements Event {}

  /**
   * @param beforeInSync true only under {@link SafetyOverrides#releaseOldExtentBeforeInSync()}
   */
  public record OldExtentReleased(ExtentRef extent, boolean beforeInSync) implements Event {}

  public record Done() implements Event {}

  // ---- actions ----

  public sealed interface Action permits RequestReplacement, AttachReplacement, ReleaseExtent {}

  /**
   * Ask placement for a new extent for this member's leg, in a failure domain none of the leg's
   * other members uses, never on the lost member's node or disk.
   */
  public record RequestReplacement(MemberRef lost) implements Action {}

  /**
   * Give the controller a desired state where {@code slot} of the leg's raid1 is {@code extent}
   * (with {@code rebuild <slot>} in the table) and the old member neither in the table nor
   * connected.
   */
  public record AttachReplacement(MemberRef lost, int slot, ExtentRef extent) implements Action {}

  /** Release the extent at its PhysicalDisk. */
  public record ReleaseExtent(ExtentRef extent, String why) implements Action {}

  // ---- state ----

  public record State(
      Stage stage,
      MemberRef lost,
      String reason,
      long lostAtMillis,
      int attempts,
      Optional<String> lastRefusal,
      Optional<ExtentRef> replacement,
      int syncPercent,
      boolean oldDetached,
      boolean oldReleased)
      implements CborSerializable {

    public static State of(MemberLost lost) {
      return new State(Stage.MEMBER_LOST, lost.member(), lost.reason(), lost.atMillis(), 0,
          Optional.empty(), Optional.empty(), 0, false, false);
    }

    /** Pending in the scheduler's sense: waiting for a {@link Begin}. */
    public boolean pending() {
      return stage == Stage.MEMBER_LOST;
    }

    /**
     * Started and not yet in sync: counts against the rebuild caps ({@link RepairScheduler.Load})
     * from its {@link Begin} on, so a burst of starts cannot overshoot a cap while placement is
     * still answering.
     */
    public boolean inFlight() {
      return stage.compareTo(Stage.MEMBER_LOST) > 0 && stage.compareTo(Stage.IN_SYNC) < 0;
    }

    public State apply(Event event) {
      if (event instanceof MemberLost) {
        throw new IllegalStateException("rebuild of " + lost + " already started");
      } else if (event instanceof ReplacementRequested r) {
        expect(Stage.MEMBER_LOST, event);
        return with(Stage.REPLACEMENT_REQUESTED, r.attempt(), lastRefusal, replacement, 0,
            oldDetached, oldReleased);
      } else if (event instanceof ReplacementRefused r) {
        expect(Stage.REPLACEMENT_REQUESTED, event);
        return with(Stage.MEMBER_LOST, attempts, Optional.of(r.reason()), Optional.empty(), 0,
            oldDetached, oldReleased);
      } else if (event instanceof ReplacementGranted g) {
        expect(Stage.REPLACEMENT_REQUESTED, event);
        return with(Stage.REPLACEMENT_GRANTED, attempts, Optional.empty(), Optional.of(g.extent()),
            0, oldDetached, oldReleased);
      } else if (event instanceof Attached) {
        expect(Stage.REPLACEMENT_GRANTED, event);
        return with(Stage.ATTACHED, attempts, lastRefusal, replacement, 0, oldDetached,
            oldReleased);
      } else if (event instanceof Syncing s) {
        if (stage != Stage.ATTACHED) {
          expect(Stage.SYNCING, event);
        }
        return with(Stage.SYNCING, attempts, lastRefusal, replacement, s.percent(), oldDetached,
            oldReleased);
      } else if (event instanceof InSync) {
        if (stage != Stage.ATTACHED) {
          expect(Stage.SYNCING, event);
        }
        // Released early (only under the override): the stage catches up now.
        Stage next = oldReleased ? Stage.OLD_EXTENT_RELEASED : Stage.IN_SYNC;
        return with(next, attempts, lastRefusal, replacement, 100, oldDetached, oldReleased);
      } else if (event instanceof OldMemberDetached) {
        return with(stage, attempts, lastRefusal, replacement, syncPercent, true, oldReleased);
      } else if (event instanceof ReplacementAbandoned) {
        return with(Stage.MEMBER_LOST, attempts, lastRefusal, Optional.empty(), 0, oldDetached,
            oldReleased);
      } else if (event instanceof OldExtentReleased r) {
        if (oldReleased) {
          throw new IllegalStateException("old extent of " + lost + " released twice");
        }
        if (!r.beforeInSync() && (stage != Stage.IN_SYNC || !oldDetached)) {
          throw new IllegalStateException("old extent of " + lost + " cannot be released at "
              + stage + (oldDetached ? "" : " while the old member is still in the kernel"));
        }
        Stage next = stage == Stage.IN_SYNC ? Stage.OLD_EXTENT_RELEASED : stage;
        return with(next, attempts, lastRefusal, replacement, syncPercent, oldDetached, true);
      } else if (event instanceof Done) {
        expect(Stage.OLD_EXTENT_RELEASED, event);
        return with(Stage.DONE, attempts, lastRefusal, replacement, 100, oldDetached, oldReleased);
      }
      throw new IllegalArgumentException("unknown rebuild event " + event);
    }

    private void expect(Stage expected, Event event) {
      if (stage != expected) {
        throw new IllegalStateException("rebuild of " + lost + ": " + event
            + " cannot follow stage " + stage + " (expected " + expected + ")");
      }
    }

    private State with(Stage s, int att, Optional<String> refusal, Optional<ExtentRef> repl,
        int percent, boolean detached, boolean released) {
      return new State(s, lost, reason, lostAtMillis, att, refusal, repl, percent, detached,
          released);
    }
  }

  public record Result(State state, List<Event> events, List<Action> actions) {
    public Result {
      events = List.copyOf(events);
      actions = List.copyOf(actions);
    }
  }

  // ---- decisions ----

  /** A member was lost: record it, pending until the scheduler lets it {@link Begin}. */
  public static Result start(MemberRef lost, String reason, long now) {
    MemberLost event = new MemberLost(lost, reason, now);
    return new Result(State.of(event), List.of(event), List.of());
  }

  public static Result decide(State state, Input input, SafetyOverrides overrides) {
    Steps s = new Steps(state);
    Stage stage = state.stage();
    if (input instanceof Begin) {
      if (stage == Stage.MEMBER_LOST) {
        s.emit(new ReplacementRequested(state.attempts() + 1));
        s.actions.add(new RequestReplacement(state.lost()));
      }
    } else if (input instanceof Granted g) {
      if (stage == Stage.REPLACEMENT_REQUESTED) {
        s.emit(new ReplacementGranted(g.extent()));
        s.actions.add(new AttachReplacement(state.lost(), state.lost().slot(), g.extent()));
      } else if (!state.replacement().orElse(g.extent()).equals(g.extent())
          || stage == Stage.MEMBER_LOST) {
        // A grant nobody waits for any more (a late answer after a refusal or a restart): give it
        // back, or the extent leaks.
        s.actions.add(new ReleaseExtent(g.extent(), "granted after the request was settled"));
      }
    } else if (input instanceof Refused r) {
      if (stage == Stage.REPLACEMENT_REQUESTED) {
        s.emit(new ReplacementRefused(r.reason()));
      }
    } else if (input instanceof AttachApplied a) {
      if (stage == Stage.REPLACEMENT_GRANTED) {
        s.emit(new Attached(a.slot(), state.replacement().orElseThrow()));
      }
    } else if (input instanceof SyncProgress p) {
      if ((stage == Stage.ATTACHED || stage == Stage.SYNCING) && p.percent() > state.syncPercent()
          && p.percent() < 100) {
        s.emit(new Syncing(p.percent()));
      }
    } else if (input instanceof SyncComplete) {
      if (stage == Stage.ATTACHED || stage == Stage.SYNCING) {
        s.emit(new InSync());
      }
    } else if (input instanceof OldMemberRemoved) {
      if (stage.compareTo(Stage.REPLACEMENT_GRANTED) >= 0 && !state.oldDetached()) {
        s.emit(new OldMemberDetached());
      }
    } else if (input instanceof ExtentReleaseConfirmed c) {
      if (c.extent().equals(state.lost().extent()) && !state.oldReleased()
          && releaseAllowed(state, overrides)) {
        s.emit(new OldExtentReleased(c.extent(), state.stage() != Stage.IN_SYNC));
      }
    } else if (input instanceof ReplacementLost l) {
      if (stage.compareTo(Stage.REPLACEMENT_GRANTED) >= 0 && stage.compareTo(Stage.IN_SYNC) < 0) {
        ExtentRef extent = state.replacement().orElseThrow();
        s.emit(new ReplacementAbandoned(extent, l.reason()));
        s.actions.add(new ReleaseExtent(extent, "replacement lost before in sync: " + l.reason()));
      }
    }
    s.afterwards(state, overrides);
    return s.result();
  }

  /** After recovery: re-issue what the current stage waits for. */
  public static Result resume(State state, SafetyOverrides overrides) {
    Steps s = new Steps(state);
    switch (state.stage()) {
      case REPLACEMENT_REQUESTED -> s.actions.add(new RequestReplacement(state.lost()));
      case REPLACEMENT_GRANTED -> s.actions.add(new AttachReplacement(
          state.lost(), state.lost().slot(), state.replacement().orElseThrow()));
      default -> { }
    }
    if (!state.oldReleased() && releaseAllowed(state, overrides)) {
      s.actions.add(releaseOld(state));
    }
    s.finish();
    return s.result();
  }

  /** The one rule this machine exists for. */
  static boolean releaseAllowed(State state, SafetyOverrides overrides) {
    if (overrides.releaseOldExtentBeforeInSync()) {
      return state.stage().compareTo(Stage.ATTACHED) >= 0;
    }
    return state.stage() == Stage.IN_SYNC && state.oldDetached();
  }

  private static ReleaseExtent releaseOld(State state) {
    return new ReleaseExtent(state.lost().extent(), "replaced by " + state.replacement()
        .map(ExtentRef::toString).orElse("?") + " in slot " + state.lost().slot());
  }

  private static final class Steps {
    State state;
    final List<Event> events = new ArrayList<>();
    final List<Action> actions = new ArrayList<>();

    Steps(State state) {
      this.state = state;
    }

    void emit(Event event) {
      state = state.apply(event);
      events.add(event);
    }

    /** Ask for the release the moment it becomes allowed (once), and finish when it is done. */
    void afterwards(State before, SafetyOverrides overrides) {
      if (!state.oldReleased() && releaseAllowed(state, overrides)
          && !releaseAllowed(before, overrides)) {
        actions.add(releaseOld(state));
      }
      finish();
    }

    void finish() {
      if (state.stage() == Stage.OLD_EXTENT_RELEASED) {
        emit(new Done());
      }
    }

    Result result() {
      return new Result(state, events, actions);
    }
  }
}
