package io.toma.volume;

import io.toma.persistence.CborSerializable;
import java.util.ArrayList;
import java.util.Collections;
import java.util.Iterator;
import java.util.List;
import java.util.NavigableSet;
import java.util.TreeSet;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.actor.typed.Behavior;
import org.apache.pekko.cluster.sharding.typed.javadsl.ClusterSharding;
import org.apache.pekko.cluster.sharding.typed.javadsl.Entity;
import org.apache.pekko.cluster.sharding.typed.javadsl.EntityTypeKey;
import org.apache.pekko.persistence.typed.PersistenceId;
import org.apache.pekko.persistence.typed.SnapshotAdapter;
import org.apache.pekko.persistence.typed.javadsl.CommandHandler;
import org.apache.pekko.persistence.typed.javadsl.Effect;
import org.apache.pekko.persistence.typed.javadsl.EventHandler;
import org.apache.pekko.persistence.typed.javadsl.EventSourcedBehavior;
import org.apache.pekko.persistence.typed.javadsl.RetentionCriteria;

/**
 * The persisted list of volume ids, for listing (entity id {@link #ID}, one per cluster). Fed by
 * the VirtualDisk entities: a volume adds itself when placed (again after each recovery, since
 * adding is idempotent) and removes itself when deleted. Chosen over Distributed Data because a
 * listing must survive a full cluster restart without a durable DData store, and one small
 * entity comfortably takes the rate of creates and deletes (a few per volume lifetime).
 */
public final class VolumeIndex
    extends EventSourcedBehavior<VolumeIndex.Command, VolumeIndex.Event, VolumeIndex.State> {

  public static final EntityTypeKey<Command> TYPE_KEY = EntityTypeKey.create(Command.class, "VolumeIndex");
  public static final String ID = "volumes";

  public sealed interface Command extends CborSerializable permits Add, Remove, ListIds {}

  public record Add(String volumeId) implements Command {}

  public record Remove(String volumeId) implements Command {}

  /** A page of volume ids in name order. */
  public record ListIds(int offset, int limit, ActorRef<IdPage> replyTo) implements Command {}

  public record IdPage(List<String> ids, int total) implements CborSerializable {}

  public sealed interface Event extends CborSerializable permits VolumeAdded, VolumeRemoved {}

  public record VolumeAdded(String volumeId) implements Event {}

  public record VolumeRemoved(String volumeId) implements Event {}

  /**
   * The ids in name order. The set is owned by this entity's state and changed in place by the
   * event handler: copying it on every create made each create O(volumes). That is safe because
   * the handlers run on the entity's own thread and the set never leaves it: {@link #ids()} is a
   * read-only view, a page is copied before it is sent, and a snapshot is a copy taken on that
   * thread ({@link #snapshotAdapter()}).
   */
  public record State(NavigableSet<String> ids) implements CborSerializable {
    public State {
      ids = new TreeSet<>(ids);
    }

    @Override
    public NavigableSet<String> ids() {
      return Collections.unmodifiableNavigableSet(ids);
    }

    boolean contains(String volumeId) {
      return ids.contains(volumeId);
    }

    State add(String volumeId) {
      ids.add(volumeId);
      return this;
    }

    State remove(String volumeId) {
      ids.remove(volumeId);
      return this;
    }

    /** A page of ids in name order, copied. */
    List<String> page(int offset, int limit) {
      List<String> page = new ArrayList<>(Math.max(0, Math.min(limit, ids.size())));
      Iterator<String> it = ids.iterator();
      for (int i = 0; i < offset && it.hasNext(); i++) {
        it.next();
      }
      while (page.size() < limit && it.hasNext()) {
        page.add(it.next());
      }
      return List.copyOf(page);
    }
  }

  /**
   * The index snapshots this many times less often than other entities: its snapshot holds every
   * volume id (about 2 MB at 100,000 volumes), while replaying a few thousand one-id events is cheap.
   */
  static final int SNAPSHOT_EVERY_FACTOR = 10;

  public static void init(ActorSystem<?> system, int snapshotEvery) {
    ClusterSharding.get(system)
        .init(Entity.of(TYPE_KEY, ctx -> create(ctx.getEntityId(), snapshotEvery * SNAPSHOT_EVERY_FACTOR))
            .withRole("manager"));
  }

  public static Behavior<Command> create(String id, int snapshotEvery) {
    return new VolumeIndex(id, snapshotEvery);
  }

  private final int snapshotEvery;

  private VolumeIndex(String id, int snapshotEvery) {
    super(PersistenceId.of(TYPE_KEY.name(), id));
    this.snapshotEvery = snapshotEvery;
  }

  @Override
  public State emptyState() {
    return new State(new TreeSet<>());
  }

  @Override
  public RetentionCriteria retentionCriteria() {
    return RetentionCriteria.snapshotEvery(snapshotEvery, 2);
  }

  /** Snapshots a copy, taken on the entity's thread, so later events never change a snapshot being written. */
  @Override
  public SnapshotAdapter<State> snapshotAdapter() {
    return new SnapshotAdapter<>() {
      @Override
      public Object toJournal(State state) {
        return new State(state.ids);
      }

      @Override
      public State fromJournal(Object from) {
        return (State) from;
      }
    };
  }

  @Override
  public CommandHandler<Command, Event, State> commandHandler() {
    return newCommandHandlerBuilder()
        .forAnyState()
        .onCommand(Add.class, (s, c) -> s.contains(c.volumeId())
            ? Effect().none() : Effect().persist(new VolumeAdded(c.volumeId())))
        .onCommand(Remove.class, (s, c) -> s.contains(c.volumeId())
            ? Effect().persist(new VolumeRemoved(c.volumeId())) : Effect().none())
        .onCommand(ListIds.class, (s, c) -> {
          c.replyTo().tell(new IdPage(s.page(Math.max(0, c.offset()), Math.max(0, c.limit())), s.ids().size()));
          return Effect().none();
        })
        .build();
  }

  @Override
  public EventHandler<State, Event> eventHandler() {
    return newEventHandlerBuilder()
        .forAnyState()
        .onEvent(VolumeAdded.class, (s, e) -> s.add(e.volumeId()))
        .onEvent(VolumeRemoved.class, (s, e) -> s.remove(e.volumeId()))
        .build();
  }
}
