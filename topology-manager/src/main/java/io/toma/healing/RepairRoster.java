package io.toma.healing;

import io.toma.persistence.CborSerializable;
import java.time.Duration;
import java.util.Set;
import java.util.TreeSet;
import java.util.function.Consumer;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.actor.typed.Behavior;
import org.apache.pekko.actor.typed.javadsl.Behaviors;
import org.apache.pekko.cluster.sharding.typed.javadsl.ClusterSharding;
import org.apache.pekko.cluster.sharding.typed.javadsl.Entity;
import org.apache.pekko.cluster.sharding.typed.javadsl.EntityTypeKey;
import org.apache.pekko.cluster.typed.ClusterSingleton;
import org.apache.pekko.cluster.typed.ClusterSingletonSettings;
import org.apache.pekko.cluster.typed.SingletonActor;
import org.apache.pekko.persistence.typed.PersistenceId;
import org.apache.pekko.persistence.typed.javadsl.CommandHandler;
import org.apache.pekko.persistence.typed.javadsl.Effect;
import org.apache.pekko.persistence.typed.javadsl.EventHandler;
import org.apache.pekko.persistence.typed.javadsl.EventSourcedBehavior;
import org.apache.pekko.persistence.typed.javadsl.RetentionCriteria;

/**
 * The persisted set of volumes with a repair under way (a failover, a rebuild), entity id
 * {@link #ID}, one per cluster. Sharding does not remember entities, so after a manager restart a
 * volume starts again only when something addresses it; a repair whose next step waits on nobody
 * but the volume itself would sit still. The {@link Waker} (a singleton started with every
 * manager) reads this set at start and then every interval and wakes each volume in it, which
 * recovers its journal and resumes the repair. Volumes enter and leave the set themselves.
 */
public final class RepairRoster
    extends EventSourcedBehavior<RepairRoster.Command, RepairRoster.Event, RepairRoster.State> {

  public static final EntityTypeKey<Command> TYPE_KEY = EntityTypeKey.create(Command.class, "RepairRoster");
  public static final String ID = "repairs";

  public sealed interface Command extends CborSerializable permits Enter, Leave, Get {}

  public record Enter(String volumeId) implements Command {}

  public record Leave(String volumeId) implements Command {}

  public record Get(ActorRef<State> replyTo) implements Command {}

  public sealed interface Event extends CborSerializable permits Entered, Left {}

  public record Entered(String volumeId) implements Event {}

  public record Left(String volumeId) implements Event {}

  public record State(Set<String> volumes) implements CborSerializable {
    public State {
      volumes = Set.copyOf(volumes);
    }
  }

  public static void init(ActorSystem<?> system, int snapshotEvery) {
    ClusterSharding.get(system)
        .init(Entity.of(TYPE_KEY, ctx -> new RepairRoster(ctx.getEntityId(), snapshotEvery)).withRole("manager"));
  }

  private final int snapshotEvery;

  private RepairRoster(String id, int snapshotEvery) {
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
        .onCommand(Enter.class, (s, c) -> s.volumes().contains(c.volumeId())
            ? Effect().none() : Effect().persist(new Entered(c.volumeId())))
        .onCommand(Leave.class, (s, c) -> s.volumes().contains(c.volumeId())
            ? Effect().persist(new Left(c.volumeId())) : Effect().none())
        .onCommand(Get.class, (s, c) -> {
          c.replyTo().tell(s);
          return Effect().none();
        })
        .build();
  }

  @Override
  public EventHandler<State, Event> eventHandler() {
    return newEventHandlerBuilder()
        .forAnyState()
        .onEvent(Entered.class, (s, e) -> {
          Set<String> v = new TreeSet<>(s.volumes());
          v.add(e.volumeId());
          return new State(v);
        })
        .onEvent(Left.class, (s, e) -> {
          Set<String> v = new TreeSet<>(s.volumes());
          v.remove(e.volumeId());
          return new State(v);
        })
        .build();
  }

  /**
   * Wakes the volumes of the roster: once at start (a manager restart) and every {@code interval}
   * after (a volume entity that stopped on a journal failure). Waking is a message through
   * sharding, which starts the entity; a volume already awake ignores it.
   */
  public static final class Waker {
    private Waker() {}

    private sealed interface Msg permits Wake, Roster {}

    private record Wake() implements Msg {}

    private record Roster(State state) implements Msg {}

    public static void init(ActorSystem<?> system, Duration interval, Consumer<String> wake) {
      ClusterSingleton.get(system).init(SingletonActor.of(create(interval, wake), "toma-repair-waker")
          .withSettings(ClusterSingletonSettings.create(system).withRole("manager")));
    }

    static Behavior<Msg> create(Duration interval, Consumer<String> wake) {
      return Behaviors.setup(ctx -> Behaviors.withTimers(timers -> {
        timers.startTimerWithFixedDelay(new Wake(), interval);
        ctx.getSelf().tell(new Wake());
        var roster = ClusterSharding.get(ctx.getSystem()).entityRefFor(TYPE_KEY, ID);
        return Behaviors.receive(Msg.class)
            .onMessage(Wake.class, w -> {
              ctx.ask(State.class, roster, Duration.ofSeconds(10), Get::new,
                  (state, failure) -> new Roster(state != null ? state : new State(Set.of())));
              return Behaviors.same();
            })
            .onMessage(Roster.class, r -> {
              new TreeSet<>(r.state().volumes()).forEach(wake);
              return Behaviors.same();
            })
            .build();
      }));
    }
  }
}
