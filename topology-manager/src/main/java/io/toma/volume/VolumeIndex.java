package io.toma.volume;

import io.toma.persistence.CborSerializable;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.actor.typed.Behavior;
import org.apache.pekko.cluster.sharding.typed.javadsl.ClusterSharding;
import org.apache.pekko.cluster.sharding.typed.javadsl.Entity;
import org.apache.pekko.cluster.sharding.typed.javadsl.EntityTypeKey;
import org.apache.pekko.persistence.typed.PersistenceId;
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

  public record State(Set<String> ids) implements CborSerializable {
    public State {
      ids = Set.copyOf(ids);
    }
  }

  public static void init(ActorSystem<?> system, int snapshotEvery) {
    ClusterSharding.get(system)
        .init(Entity.of(TYPE_KEY, ctx -> create(ctx.getEntityId(), snapshotEvery)).withRole("manager"));
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
    return new State(Set.of());
  }

  @Override
  public RetentionCriteria retentionCriteria() {
    return RetentionCriteria.snapshotEvery(snapshotEvery, 2);
  }

  @Override
  public CommandHandler<Command, Event, State> commandHandler() {
    return newCommandHandlerBuilder()
        .forAnyState()
        .onCommand(Add.class, (s, c) -> s.ids().contains(c.volumeId())
            ? Effect().none() : Effect().persist(new VolumeAdded(c.volumeId())))
        .onCommand(Remove.class, (s, c) -> s.ids().contains(c.volumeId())
            ? Effect().persist(new VolumeRemoved(c.volumeId())) : Effect().none())
        .onCommand(ListIds.class, (s, c) -> {
          List<String> sorted = List.copyOf(new TreeSet<>(s.ids()));
          int from = Math.min(Math.max(0, c.offset()), sorted.size());
          int to = (int) Math.min(sorted.size(), (long) from + Math.max(0, c.limit()));
          c.replyTo().tell(new IdPage(sorted.subList(from, to), sorted.size()));
          return Effect().none();
        })
        .build();
  }

  @Override
  public EventHandler<State, Event> eventHandler() {
    return newEventHandlerBuilder()
        .forAnyState()
        .onEvent(VolumeAdded.class, (s, e) -> {
          Set<String> ids = new TreeSet<>(s.ids());
          ids.add(e.volumeId());
          return new State(ids);
        })
        .onEvent(VolumeRemoved.class, (s, e) -> {
          Set<String> ids = new TreeSet<>(s.ids());
          ids.remove(e.volumeId());
          return new State(ids);
        })
        .build();
  }
}
