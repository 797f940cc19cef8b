package io.toma.healing;

import com.fasterxml.jackson.annotation.JsonSubTypes;
import com.fasterxml.jackson.annotation.JsonTypeInfo;
import io.toma.persistence.CborSerializable;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.TreeSet;

/**
 * The failover of one volume whose active controller is lost (its node is lost, or it cannot reach
 * what its standby can): a persisted stage machine, fence first, promote after.
 *
 * <pre>
 * Detected → EpochBumped(epoch+1) → FencingRequested(disk nodes)
 *   → FenceConfirmed(node)… / FenceAbandoned(node) (unreachable, or no confirmation in time:
 *     its slices become lost members)
 *   → Fenced → PromotionRequested(standby) → Promoted → StandbyPlacementRequested → Done
 * with no standby left to promote: → Unavailable(reason)
 * </pre>
 *
 * <p>The entity calls {@link #start}, {@link #decide} or {@link #resume}, persists
 * {@link Result#events()} (all of them, atomically, in order), applies each with
 * {@link State#apply(Event)} in its event handler, and only then performs
 * {@link Result#actions()}. Replaying the journal rebuilds the same {@link State} through the same
 * {@link State#apply(Event)}; {@link #resume} then re-issues what the current stage is waiting on,
 * never a second promotion.
 *
 * <p>Safety by construction: the only path to {@link PromotionRequested} goes through
 * {@code fencePending} being empty at the new epoch (unless {@link SafetyOverrides} says otherwise,
 * for the simulation's checker tests), and {@link State#apply(Event)} refuses a second
 * {@link PromotionRequested}.
 */
public final class Failover {
  private Failover() {}

  public enum Stage {
    DETECTED,
    EPOCH_BUMPED,
    FENCING_REQUESTED,
    FENCED,
    PROMOTION_REQUESTED,
    PROMOTED,
    STANDBY_PLACEMENT_REQUESTED,
    DONE,
    UNAVAILABLE;

    public boolean finished() {
      return this == DONE || this == UNAVAILABLE;
    }
  }

  // ---- inputs ----

  /**
   * What the entity knows when it decides to fail over.
   *
   * @param standbys live standby controller nodes, in order of preference
   * @param diskNodes every disk node serving a member of the volume
   * @param cause why (node lost, link lost with the standby able to reach what the active cannot)
   */
  public record Start(
      String volume,
      String failedController,
      long currentEpoch,
      List<String> standbys,
      Set<String> diskNodes,
      String cause) {
    public Start {
      standbys = List.copyOf(standbys);
      diskNodes = Canonical.set(diskNodes);
    }
  }

  public sealed interface Input permits FenceAck, NodeUnreachable, PromotionAck, StandbyPlaced,
      NoStandbyPlaced, Tick {}

  /** A disk node applied the desired state of {@code epoch} (old host revoked, slices flushed). */
  public record FenceAck(String node, long epoch) implements Input {}

  /** A node involved in the failover is unreachable or lost. */
  public record NodeUnreachable(String node) implements Input {}

  /** The standby applied its promoted stack (ANA optimized) at {@code epoch}. */
  public record PromotionAck(String node, long epoch) implements Input {}

  /** Placement gave the volume a new standby controller. */
  public record StandbyPlaced(String node) implements Input {}

  /** Placement found no node for a new standby (the volume runs without one). */
  public record NoStandbyPlaced(String reason) implements Input {}

  /** Time passes: fence confirmations that are overdue are given up. */
  public record Tick() implements Input {}

  // ---- events (persisted in the VirtualDisk journal) ----

  @JsonTypeInfo(use = JsonTypeInfo.Id.NAME, property = "type")
  @JsonSubTypes({
    @JsonSubTypes.Type(Detected.class),
    @JsonSubTypes.Type(EpochBumped.class),
    @JsonSubTypes.Type(FencingRequested.class),
    @JsonSubTypes.Type(FenceRetried.class),
    @JsonSubTypes.Type(FenceConfirmed.class),
    @JsonSubTypes.Type(FenceAbandoned.class),
    @JsonSubTypes.Type(StandbyDropped.class),
    @JsonSubTypes.Type(Fenced.class),
    @JsonSubTypes.Type(PromotionRequested.class),
    @JsonSubTypes.Type(Promoted.class),
    @JsonSubTypes.Type(StandbyPlacementRequested.class),
    @JsonSubTypes.Type(Done.class),
    @JsonSubTypes.Type(Unavailable.class)
  })
  public sealed interface Event extends CborSerializable
      permits Detected, EpochBumped, FencingRequested, FenceRetried, FenceConfirmed, FenceAbandoned,
          StandbyDropped, Fenced, PromotionRequested, Promoted, StandbyPlacementRequested, Done,
          Unavailable {}

  public record Detected(
      String volume,
      String failedController,
      long epoch,
      List<String> standbys,
      Set<String> diskNodes,
      String cause)
      implements Event {
    public Detected {
      standbys = List.copyOf(standbys);
      diskNodes = Canonical.set(diskNodes);
    }
  }

  public record EpochBumped(long epoch) implements Event {}

  public record FencingRequested(long epoch, Set<String> diskNodes, long deadlineMillis)
      implements Event {
    public FencingRequested {
      diskNodes = Canonical.set(diskNodes);
    }
  }

  /** After a manager restart: the fence was asked again and its deadline pushed back. */
  public record FenceRetried(long deadlineMillis) implements Event {}

  public record FenceConfirmed(String node, long epoch) implements Event {}

  /** The disk node could not confirm: its slices are lost members of the volume. */
  public record FenceAbandoned(String node, String reason) implements Event {}

  /** A standby was lost before promotion; it will not be promoted. */
  public record StandbyDropped(String node) implements Event {}

  public record Fenced(long epoch, Set<String> abandoned) implements Event {
    public Fenced {
      abandoned = Canonical.set(abandoned);
    }
  }

  /**
   * @param fencingSkipped true only under {@link SafetyOverrides#promoteWithoutFencing()}: the
   *     journal then shows that this promotion did not wait for the fence
   */
  public record PromotionRequested(
      String standby, long epoch, Set<String> excludedDiskNodes, boolean fencingSkipped)
      implements Event {
    public PromotionRequested {
      excludedDiskNodes = Canonical.set(excludedDiskNodes);
    }
  }

  public record Promoted(String standby, long epoch) implements Event {}

  public record StandbyPlacementRequested(Set<String> excludedNodes) implements Event {
    public StandbyPlacementRequested {
      excludedNodes = Canonical.set(excludedNodes);
    }
  }

  public record Done(Optional<String> newStandby, String note) implements Event {}

  public record Unavailable(String reason) implements Event {}

  // ---- actions (performed by the entity after the events are persisted) ----

  public sealed interface Action permits FenceOldController, TreatSlicesAsLost, PromoteStandby,
      PlaceNewStandby, ReportUnavailable {}

  /**
   * Send {@code diskNode} the volume's desired state at {@code epoch}: {@code revokedController}'s
   * host NQN removed from every allowed-hosts list, slices flushed (suspend/resume).
   */
  public record FenceOldController(String diskNode, long epoch, String revokedController)
      implements Action {}

  /** Every member on this disk node is lost: start its rebuild elsewhere. */
  public record TreatSlicesAsLost(String diskNode, String reason) implements Action {}

  /**
   * Build the real stack on the standby at {@code epoch}, without members on
   * {@code excludedDiskNodes}, and set its ANA state to optimized.
   */
  public record PromoteStandby(String standby, long epoch, Set<String> excludedDiskNodes)
      implements Action {
    public PromoteStandby {
      excludedDiskNodes = Canonical.set(excludedDiskNodes);
    }
  }

  /** Ask placement for a new standby controller, not on these nodes. */
  public record PlaceNewStandby(Set<String> excludedNodes) implements Action {
    public PlaceNewStandby {
      excludedNodes = Canonical.set(excludedNodes);
    }
  }

  /** The volume cannot be served: say so (health, event stream, log). */
  public record ReportUnavailable(String reason) implements Action {}

  // ---- state ----

  /**
   * Where one failover stands; rebuilt from its events only.
   *
   * @param epoch the fencing epoch the failover works at (the new one once bumped)
   * @param promotionTarget the standby whose promotion was requested, once it was
   */
  public record State(
      Stage stage,
      String volume,
      String failedController,
      String cause,
      long previousEpoch,
      long epoch,
      List<String> standbys,
      Set<String> diskNodes,
      Set<String> droppedStandbys,
      Set<String> fencePending,
      Set<String> fenceConfirmed,
      Set<String> fenceAbandoned,
      long fenceDeadlineMillis,
      Optional<String> promotionTarget,
      Optional<String> newStandby,
      Optional<String> outcome)
      implements CborSerializable {
    public State {
      standbys = List.copyOf(standbys);
      diskNodes = Canonical.set(diskNodes);
      droppedStandbys = Canonical.set(droppedStandbys);
      fencePending = Canonical.set(fencePending);
      fenceConfirmed = Canonical.set(fenceConfirmed);
      fenceAbandoned = Canonical.set(fenceAbandoned);
    }

    /** The state after the first event of a failover. */
    public static State of(Detected d) {
      return new State(Stage.DETECTED, d.volume(), d.failedController(), d.cause(), d.epoch(),
          d.epoch(), d.standbys(), d.diskNodes(), Canonical.setOf(), Canonical.setOf(),
          Canonical.setOf(),
          Canonical.setOf(), 0L, Optional.empty(), Optional.empty(), Optional.empty());
    }

    /**
     * The event handler: the same function runs live and on replay. It throws on an event that
     * cannot follow the current stage, so a corrupted journal or a buggy caller fails loudly
     * instead of promoting twice.
     */
    public State apply(Event event) {
      Edit e = new Edit(this);
      if (event instanceof Detected) {
        throw new IllegalStateException("failover of " + volume + " already detected");
      } else if (event instanceof EpochBumped b) {
        e.expect(Stage.DETECTED, event);
        e.epoch = b.epoch();
        e.stage = Stage.EPOCH_BUMPED;
      } else if (event instanceof FencingRequested f) {
        e.expect(Stage.EPOCH_BUMPED, event);
        e.fencePending = new TreeSet<>(f.diskNodes());
        e.fenceDeadline = f.deadlineMillis();
        e.stage = Stage.FENCING_REQUESTED;
      } else if (event instanceof FenceRetried r) {
        e.expect(Stage.FENCING_REQUESTED, event);
        e.fenceDeadline = r.deadlineMillis();
      } else if (event instanceof FenceConfirmed c) {
        e.expect(Stage.FENCING_REQUESTED, event);
        e.fencePending.remove(c.node());
        e.fenceConfirmed.add(c.node());
      } else if (event instanceof FenceAbandoned a) {
        e.expect(Stage.FENCING_REQUESTED, event);
        e.fencePending.remove(a.node());
        e.fenceAbandoned.add(a.node());
      } else if (event instanceof StandbyDropped d) {
        e.dropped.add(d.node());
      } else if (event instanceof Fenced) {
        e.expect(Stage.FENCING_REQUESTED, event);
        e.stage = Stage.FENCED;
      } else if (event instanceof PromotionRequested p) {
        if (promotionTarget.isPresent()) {
          throw new IllegalStateException(
              "volume " + volume + ": promotion of " + promotionTarget.get()
                  + " was already requested, refusing a second one (" + p.standby() + ")");
        }
        e.expect(p.fencingSkipped() ? Stage.FENCING_REQUESTED : Stage.FENCED, event);
        e.promotionTarget = Optional.of(p.standby());
        e.stage = Stage.PROMOTION_REQUESTED;
      } else if (event instanceof Promoted) {
        e.expect(Stage.PROMOTION_REQUESTED, event);
        e.stage = Stage.PROMOTED;
      } else if (event instanceof StandbyPlacementRequested) {
        e.expect(Stage.PROMOTED, event);
        e.stage = Stage.STANDBY_PLACEMENT_REQUESTED;
      } else if (event instanceof Done d) {
        e.expect(Stage.STANDBY_PLACEMENT_REQUESTED, event);
        e.newStandby = d.newStandby();
        e.outcome = Optional.of(d.note());
        e.stage = Stage.DONE;
      } else if (event instanceof Unavailable u) {
        e.outcome = Optional.of(u.reason());
        e.stage = Stage.UNAVAILABLE;
      }
      return e.build();
    }

    /** Standbys still eligible, in order of preference. */
    public List<String> eligibleStandbys() {
      return standbys.stream()
          .filter(s -> !droppedStandbys.contains(s) && !fenceAbandoned.contains(s)
              && !s.equals(failedController))
          .toList();
    }
  }

  /** A mutable copy of a state, private to one {@link State#apply(Event)}. */
  private static final class Edit {
    private final State from;
    Stage stage;
    long epoch;
    final TreeSet<String> dropped;
    TreeSet<String> fencePending;
    final TreeSet<String> fenceConfirmed;
    final TreeSet<String> fenceAbandoned;
    long fenceDeadline;
    Optional<String> promotionTarget;
    Optional<String> newStandby;
    Optional<String> outcome;

    Edit(State s) {
      from = s;
      stage = s.stage();
      epoch = s.epoch();
      dropped = new TreeSet<>(s.droppedStandbys());
      fencePending = new TreeSet<>(s.fencePending());
      fenceConfirmed = new TreeSet<>(s.fenceConfirmed());
      fenceAbandoned = new TreeSet<>(s.fenceAbandoned());
      fenceDeadline = s.fenceDeadlineMillis();
      promotionTarget = s.promotionTarget();
      newStandby = s.newStandby();
      outcome = s.outcome();
    }

    void expect(Stage expected, Event event) {
      if (stage != expected) {
        throw new IllegalStateException("volume " + from.volume() + ": " + event
            + " cannot follow stage " + stage + " (expected " + expected + ")");
      }
    }

    State build() {
      return new State(stage, from.volume(), from.failedController(), from.cause(),
          from.previousEpoch(), epoch, from.standbys(), from.diskNodes(), dropped, fencePending,
          fenceConfirmed, fenceAbandoned, fenceDeadline, promotionTarget, newStandby, outcome);
    }
  }

  /** The new state, the events to persist (in order) and the actions to perform afterwards. */
  public record Result(State state, List<Event> events, List<Action> actions) {
    public Result {
      events = List.copyOf(events);
      actions = List.copyOf(actions);
    }
  }

  // ---- decisions ----

  public static Result start(
      Start start, long now, HealingSettings settings, SafetyOverrides overrides) {
    Detected detected = new Detected(start.volume(), start.failedController(),
        start.currentEpoch(), start.standbys(), start.diskNodes(), start.cause());
    Steps s = new Steps(State.of(detected));
    s.events.add(detected);
    s.advance(now, settings, overrides);
    return s.result();
  }

  public static Result decide(
      State state, Input input, long now, HealingSettings settings, SafetyOverrides overrides) {
    Steps s = new Steps(state);
    if (state.stage().finished()) {
      return s.result();
    }
    if (input instanceof FenceAck ack) {
      // Only a confirmation at this failover's epoch counts: an older one says nothing about the
      // host NQN revoked now.
      if (state.stage() == Stage.FENCING_REQUESTED && ack.epoch() == state.epoch()
          && state.fencePending().contains(ack.node())) {
        s.emit(new FenceConfirmed(ack.node(), ack.epoch()));
      }
    } else if (input instanceof NodeUnreachable u) {
      if (state.stage() == Stage.FENCING_REQUESTED && state.fencePending().contains(u.node())) {
        s.abandon(u.node(), "unreachable during the fence");
      }
      if (state.stage().compareTo(Stage.PROMOTION_REQUESTED) < 0
          && s.state.eligibleStandbys().contains(u.node())) {
        s.emit(new StandbyDropped(u.node()));
      } else if (state.stage() == Stage.PROMOTION_REQUESTED
          && state.promotionTarget().orElse("").equals(u.node())) {
        // Its stack may be half built at the new epoch: a fresh failover (a further epoch) must
        // fence it in turn before any other standby is promoted.
        s.unavailable("standby " + u.node() + " was lost while being promoted; a new failover"
            + " must fence it first");
      }
    } else if (input instanceof Tick) {
      if (state.stage() == Stage.FENCING_REQUESTED && now >= state.fenceDeadlineMillis()) {
        for (String node : state.fencePending()) {
          s.abandon(node, "no fence confirmation within "
              + settings.fenceConfirmTimeout().toMillis() + " ms");
        }
      }
    } else if (input instanceof PromotionAck ack) {
      if (state.stage() == Stage.PROMOTION_REQUESTED && ack.epoch() == state.epoch()
          && state.promotionTarget().orElse("").equals(ack.node())) {
        s.emit(new Promoted(ack.node(), ack.epoch()));
      }
    } else if (input instanceof StandbyPlaced placed) {
      if (state.stage() == Stage.STANDBY_PLACEMENT_REQUESTED) {
        s.emit(new Done(Optional.of(placed.node()), "new standby on " + placed.node()));
      }
    } else if (input instanceof NoStandbyPlaced none) {
      if (state.stage() == Stage.STANDBY_PLACEMENT_REQUESTED) {
        s.emit(new Done(Optional.empty(), "running without a standby: " + none.reason()));
      }
    }
    s.advance(now, settings, overrides);
    return s.result();
  }

  /**
   * After recovery from the journal: re-issue what the current stage waits for (the same fence at
   * the same epoch, the same promotion; both are idempotent at the agents) and carry on with any
   * automatic step whose event was not yet written. Never a new promotion.
   */
  public static Result resume(
      State state, long now, HealingSettings settings, SafetyOverrides overrides) {
    Steps s = new Steps(state);
    switch (state.stage()) {
      case FENCING_REQUESTED -> {
        s.emit(new FenceRetried(now + settings.fenceConfirmTimeout().toMillis()));
        for (String node : state.fencePending()) {
          s.actions.add(new FenceOldController(node, state.epoch(), state.failedController()));
        }
      }
      case PROMOTION_REQUESTED -> s.actions.add(new PromoteStandby(
          state.promotionTarget().orElseThrow(), state.epoch(), state.fenceAbandoned()));
      case STANDBY_PLACEMENT_REQUESTED -> s.actions.add(new PlaceNewStandby(excludedForStandby(state)));
      default -> { }
    }
    s.advance(now, settings, overrides);
    return s.result();
  }

  private static Set<String> excludedForStandby(State state) {
    TreeSet<String> excluded = new TreeSet<>(state.fenceAbandoned());
    excluded.add(state.failedController());
    state.promotionTarget().ifPresent(excluded::add);
    return excluded;
  }

  /** Accumulates events, applying each at once so later decisions see the new stage. */
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

    void abandon(String node, String reason) {
      emit(new FenceAbandoned(node, reason));
      actions.add(new TreatSlicesAsLost(node, reason));
    }

    void unavailable(String reason) {
      emit(new Unavailable(reason));
      actions.add(new ReportUnavailable(reason));
    }

    Result result() {
      return new Result(state, events, actions);
    }

    /** Take every step that needs no outside answer. */
    void advance(long now, HealingSettings settings, SafetyOverrides overrides) {
      while (true) {
        Stage before = state.stage();
        switch (before) {
          case DETECTED -> emit(new EpochBumped(state.previousEpoch() + 1));
          case EPOCH_BUMPED -> {
            emit(new FencingRequested(state.epoch(), state.diskNodes(),
                now + settings.fenceConfirmTimeout().toMillis()));
            for (String node : state.fencePending()) {
              actions.add(new FenceOldController(node, state.epoch(), state.failedController()));
            }
            if (state.fencePending().contains(state.failedController())) {
              // A converged node: the lost controller's own disks cannot confirm anything.
              abandon(state.failedController(), "on the lost controller's node");
            }
            if (overrides.promoteWithoutFencing() && !state.fencePending().isEmpty()) {
              promoteOrGiveUp();
            }
          }
          case FENCING_REQUESTED -> {
            if (state.fencePending().isEmpty()) {
              emit(new Fenced(state.epoch(), state.fenceAbandoned()));
            }
          }
          case FENCED -> promoteOrGiveUp();
          case PROMOTED -> {
            Set<String> excluded = excludedForStandby(state);
            emit(new StandbyPlacementRequested(excluded));
            actions.add(new PlaceNewStandby(excluded));
          }
          default -> { }
        }
        if (state.stage() == before) {
          return;
        }
      }
    }

    private void promoteOrGiveUp() {
      List<String> eligible = state.eligibleStandbys();
      if (eligible.isEmpty()) {
        unavailable("no standby controller left to promote; the old controller is fenced at epoch "
            + state.epoch() + " and the volume waits for a new controller");
        return;
      }
      String standby = eligible.get(0);
      emit(new PromotionRequested(standby, state.epoch(), state.fenceAbandoned(),
          state.stage() != Stage.FENCED));
      actions.add(new PromoteStandby(standby, state.epoch(), state.fenceAbandoned()));
    }
  }
}
