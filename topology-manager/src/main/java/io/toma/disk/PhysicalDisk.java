package io.toma.disk;

import io.toma.persistence.CborSerializable;
import io.toma.topology.DiskFacts;
import io.toma.topology.ReplicaPlacement;
import java.util.Comparator;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.actor.typed.Behavior;
import org.apache.pekko.actor.typed.javadsl.Behaviors;
import org.apache.pekko.cluster.sharding.typed.javadsl.ClusterSharding;
import org.apache.pekko.cluster.sharding.typed.javadsl.Entity;
import org.apache.pekko.cluster.sharding.typed.javadsl.EntityTypeKey;
import org.apache.pekko.persistence.typed.PersistenceId;
import org.apache.pekko.persistence.typed.RecoveryCompleted;
import org.apache.pekko.persistence.typed.javadsl.CommandHandler;
import org.apache.pekko.persistence.typed.javadsl.Effect;
import org.apache.pekko.persistence.typed.javadsl.EventHandler;
import org.apache.pekko.persistence.typed.javadsl.EventSourcedBehavior;
import org.apache.pekko.persistence.typed.javadsl.RetentionCriteria;
import org.apache.pekko.persistence.typed.javadsl.SignalHandler;

/**
 * One physical disk (entity id = disk id), the single writer of its extents: a grant is decided
 * and persisted by this entity alone, so two volumes can never be given the same extent whatever
 * the interleaving of their requests. It knows which volume owns each extent, so a lost disk
 * reaches exactly the volumes that used it.
 */
public final class PhysicalDisk
    extends EventSourcedBehavior<PhysicalDisk.Command, PhysicalDisk.Event, PhysicalDisk.State> {

  public static final EntityTypeKey<Command> TYPE_KEY =
      EntityTypeKey.create(Command.class, "PhysicalDisk");

  // ---- protocol ----

  public sealed interface Command extends CborSerializable
      permits Register, Grant, Grow, Release, MarkLost, Get {}

  /** The disk as its node agent reported it; repeated registrations with the same facts are no-ops. */
  public record Register(String nodeId, String zone, String rack, long sizeBytes, boolean healthy)
      implements Command {}

  /** Grant an extent of {@code lengthBytes} to member {@code tag} of a volume (idempotent per member). */
  public record Grant(String volumeId, String tag, long lengthBytes, ActorRef<GrantReply> replyTo)
      implements Command {}

  /** Grow a member's extent in place (online grow); refused when the bytes after it are taken. */
  public record Grow(String volumeId, String tag, long newLengthBytes, ActorRef<GrantReply> replyTo)
      implements Command {}

  /**
   * Release every extent the volume holds here except those of the members in {@code keepTags}
   * (empty: all of them). Idempotent. The keep set lets a create that retried elsewhere drop the
   * extents of abandoned attempts without touching the members it kept.
   */
  public record Release(String volumeId, Set<String> keepTags, ActorRef<Released> replyTo)
      implements Command {}

  /**
   * The disk is lost. {@code withNode}: only because its whole node was declared lost, so the disk
   * comes back when its node registers it healthy again; a disk lost on its own stays lost.
   */
  public record MarkLost(String reason, boolean withNode) implements Command {
    public MarkLost(String reason) {
      this(reason, false);
    }
  }

  public record Get(ActorRef<DiskStatus> replyTo) implements Command {}

  public sealed interface GrantReply extends CborSerializable permits Granted, Refused {}

  public record Granted(String diskId, Extent extent) implements GrantReply {}

  public record Refused(String diskId, String reason) implements GrantReply {}

  public record Released(String diskId, String volumeId) implements CborSerializable {}

  public record DiskStatus(
      String diskId, boolean registered, Optional<DiskFacts> facts, List<Extent> extents, boolean lost)
      implements CborSerializable {}

  public sealed interface Event extends CborSerializable
      permits DiskRegistered, ExtentGranted, ExtentGrown, ExtentsReleased, DiskLost, DiskLostWithNode {}

  public record DiskRegistered(String nodeId, String zone, String rack, long sizeBytes, boolean healthy)
      implements Event {}

  public record ExtentGranted(Extent extent) implements Event {}

  public record ExtentGrown(Extent extent) implements Event {}

  public record ExtentsReleased(String volumeId, Set<String> keepTags) implements Event {}

  public record DiskLost(String reason) implements Event {}

  /**
   * Lost because its node was declared lost: a {@link DiskRegistered} healthy (the node returned)
   * makes it usable again; a {@link DiskLost} disk stays lost whatever its node registers.
   */
  public record DiskLostWithNode(String reason) implements Event {}

  /** Persisted state and snapshot. */
  public record State(
      boolean registered,
      String nodeId,
      String zone,
      String rack,
      boolean healthy,
      boolean lost,
      ExtentAllocator allocator,
      boolean lostWithNode)
      implements CborSerializable {

    static State empty() {
      return new State(false, "", "", "", false, false, ExtentAllocator.empty(0), false);
    }

    DiskFacts facts(String diskId) {
      long repairBytes = 0; // a loop: this runs on every grant, over every extent of the disk
      for (Extent e : allocator.extents()) {
        if (ReplicaPlacement.isReplacementTag(e.tag())) {
          repairBytes += e.lengthBytes();
        }
      }
      return new DiskFacts(
          diskId, nodeId, zone, rack, allocator.sizeBytes(), allocator.freeBytes(), healthy && !lost, repairBytes);
    }

    /**
     * The volumes with extents here, largest extent first: told of a loss in this order, their
     * replacements are placed largest first, which keeps the rebuild load per survivor even
     * (list scheduling, largest job first; docs/benchmarks.md §3).
     */
    Set<String> volumes() {
      Set<String> ids = new LinkedHashSet<>();
      allocator.extents().stream()
          .sorted(Comparator.comparingLong(Extent::lengthBytes).reversed().thenComparing(Extent::volumeId))
          .forEach(e -> ids.add(e.volumeId()));
      return ids;
    }
  }

  // ---- wiring ----

  public static void init(ActorSystem<?> system, DiskObserver observer, int snapshotEvery) {
    ClusterSharding.get(system)
        .init(
            Entity.of(TYPE_KEY, ctx -> create(ctx.getEntityId(), observer, snapshotEvery))
                .withRole("manager"));
  }

  public static Behavior<Command> create(String diskId, DiskObserver observer, int snapshotEvery) {
    return Behaviors.setup(ctx -> new PhysicalDisk(diskId, observer, snapshotEvery));
  }

  private final String diskId;
  private final DiskObserver observer;
  private final int snapshotEvery;

  private PhysicalDisk(String diskId, DiskObserver observer, int snapshotEvery) {
    super(PersistenceId.of(TYPE_KEY.name(), diskId));
    this.diskId = diskId;
    this.observer = observer;
    this.snapshotEvery = snapshotEvery;
  }

  @Override
  public State emptyState() {
    return State.empty();
  }

  @Override
  public RetentionCriteria retentionCriteria() {
    return RetentionCriteria.snapshotEvery(snapshotEvery, 2);
  }

  @Override
  public SignalHandler<State> signalHandler() {
    return newSignalHandlerBuilder()
        .onSignal(RecoveryCompleted.instance(), state -> {
          if (state.registered()) {
            observer.changed(state.facts(diskId));
          }
        })
        .build();
  }

  @Override
  public CommandHandler<Command, Event, State> commandHandler() {
    return newCommandHandlerBuilder()
        .forAnyState()
        .onCommand(Register.class, this::onRegister)
        .onCommand(Grant.class, this::onGrant)
        .onCommand(Grow.class, this::onGrow)
        .onCommand(Release.class, this::onRelease)
        .onCommand(MarkLost.class, this::onMarkLost)
        .onCommand(Get.class, (state, cmd) -> {
          cmd.replyTo().tell(
              new DiskStatus(
                  diskId,
                  state.registered(),
                  state.registered() ? Optional.of(state.facts(diskId)) : Optional.empty(),
                  state.allocator().extents(),
                  state.lost()));
          return Effect().none();
        })
        .build();
  }

  private Effect<Event, State> onRegister(State state, Register cmd) {
    if (state.lost() && !state.lostWithNode() && cmd.healthy()) {
      // a disk lost on its own (I/O errors, device gone) is not brought back by its node's next
      // registration, which may carry the health the agent read at its start
      observer.changed(state.facts(diskId));
      return Effect().none();
    }
    DiskRegistered event = new DiskRegistered(cmd.nodeId(), cmd.zone(), cmd.rack(), cmd.sizeBytes(), cmd.healthy());
    boolean same = state.registered()
        && state.nodeId().equals(cmd.nodeId())
        && state.zone().equals(cmd.zone())
        && state.rack().equals(cmd.rack())
        && state.allocator().sizeBytes() == cmd.sizeBytes()
        && state.healthy() == cmd.healthy()
        // A disk lost with its node that the returned node registers healthy is usable again.
        && !(state.lost() && cmd.healthy());
    if (same) {
      observer.changed(state.facts(diskId));
      return Effect().none();
    }
    return Effect().persist(event).thenRun(s -> observer.changed(s.facts(diskId)));
  }

  private Effect<Event, State> onGrant(State state, Grant cmd) {
    Optional<Extent> existing = state.allocator().find(cmd.volumeId(), cmd.tag());
    if (existing.isPresent()) {
      cmd.replyTo().tell(new Granted(diskId, existing.get()));
      return Effect().none();
    }
    Optional<String> refusal = refusal(state);
    if (refusal.isPresent()) {
      cmd.replyTo().tell(new Refused(diskId, refusal.get()));
      return Effect().none();
    }
    Optional<Extent> fit = state.allocator().firstFit(cmd.volumeId(), cmd.tag(), cmd.lengthBytes());
    if (fit.isEmpty()) {
      cmd.replyTo().tell(
          new Refused(diskId, "no free extent of " + cmd.lengthBytes() + " bytes (" + state.allocator().freeBytes() + " free)"));
      return Effect().none();
    }
    return Effect()
        .persist(new ExtentGranted(fit.get()))
        .thenRun(s -> {
          observer.changed(s.facts(diskId));
          cmd.replyTo().tell(new Granted(diskId, fit.get()));
        });
  }

  private Effect<Event, State> onGrow(State state, Grow cmd) {
    Optional<String> refusal = refusal(state);
    if (refusal.isPresent()) {
      cmd.replyTo().tell(new Refused(diskId, refusal.get()));
      return Effect().none();
    }
    Optional<Extent> current = state.allocator().find(cmd.volumeId(), cmd.tag());
    Optional<Extent> grown = state.allocator().growInPlace(cmd.volumeId(), cmd.tag(), cmd.newLengthBytes());
    if (current.isEmpty() || grown.isEmpty()) {
      cmd.replyTo().tell(new Refused(diskId, current.isEmpty() ? "no such extent" : "the bytes after the extent are taken"));
      return Effect().none();
    }
    if (grown.get().equals(current.get())) {
      cmd.replyTo().tell(new Granted(diskId, current.get()));
      return Effect().none();
    }
    return Effect()
        .persist(new ExtentGrown(grown.get()))
        .thenRun(s -> {
          observer.changed(s.facts(diskId));
          cmd.replyTo().tell(new Granted(diskId, grown.get()));
        });
  }

  private Effect<Event, State> onRelease(State state, Release cmd) {
    boolean nothingToRelease = state.allocator().ownedBy(cmd.volumeId()).stream()
        .allMatch(e -> cmd.keepTags().contains(e.tag()));
    if (nothingToRelease) {
      cmd.replyTo().tell(new Released(diskId, cmd.volumeId()));
      return Effect().none();
    }
    return Effect()
        .persist(new ExtentsReleased(cmd.volumeId(), Set.copyOf(cmd.keepTags())))
        .thenRun(s -> {
          observer.changed(s.facts(diskId));
          cmd.replyTo().tell(new Released(diskId, cmd.volumeId()));
        });
  }

  private Effect<Event, State> onMarkLost(State state, MarkLost cmd) {
    if (state.lost()) {
      return Effect().none();
    }
    return Effect()
        .persist(cmd.withNode() ? new DiskLostWithNode(cmd.reason()) : new DiskLost(cmd.reason()))
        .thenRun(s -> {
          observer.changed(s.facts(diskId));
          observer.lost(diskId, s.volumes(), cmd.reason());
        });
  }

  private static Optional<String> refusal(State state) {
    if (!state.registered()) {
      return Optional.of("disk not registered");
    }
    if (state.lost()) {
      return Optional.of("disk lost");
    }
    if (!state.healthy()) {
      return Optional.of("disk unhealthy");
    }
    return Optional.empty();
  }

  @Override
  public EventHandler<State, Event> eventHandler() {
    return newEventHandlerBuilder()
        .forAnyState()
        .onEvent(DiskRegistered.class, (s, e) -> new State(
            true, e.nodeId(), e.zone(), e.rack(), e.healthy(), s.lost() && !e.healthy(),
            new ExtentAllocator(e.sizeBytes(), s.allocator().extents()), s.lostWithNode() && !e.healthy()))
        .onEvent(ExtentGranted.class, (s, e) -> withAllocator(s, s.allocator().with(e.extent())))
        .onEvent(ExtentGrown.class, (s, e) -> withAllocator(s, s.allocator().replacing(e.extent())))
        .onEvent(ExtentsReleased.class, (s, e) -> withAllocator(s, s.allocator().without(e.volumeId(), e.keepTags())))
        .onEvent(DiskLost.class, (s, e) -> new State(
            s.registered(), s.nodeId(), s.zone(), s.rack(), s.healthy(), true, s.allocator(), false))
        .onEvent(DiskLostWithNode.class, (s, e) -> new State(
            s.registered(), s.nodeId(), s.zone(), s.rack(), s.healthy(), true, s.allocator(), true))

        .build();
  }

  private static State withAllocator(State s, ExtentAllocator allocator) {
    return new State(s.registered(), s.nodeId(), s.zone(), s.rack(), s.healthy(), s.lost(), allocator,
        s.lostWithNode());
  }
}
