package io.toma.bench.provisioning;

import io.toma.persistence.CborSerializable;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.Behavior;
import org.apache.pekko.persistence.typed.PersistenceId;
import org.apache.pekko.persistence.typed.javadsl.CommandHandler;
import org.apache.pekko.persistence.typed.javadsl.EventHandler;
import org.apache.pekko.persistence.typed.javadsl.EventSourcedBehavior;

/**
 * The trivial event-sourced entity behind the raw journal limit: every Increment persists one
 * small event and answers once it is stored. Serialized like Toma's events (Jackson CBOR).
 */
public final class Counter extends EventSourcedBehavior<Counter.Increment, Counter.Incremented, Counter.State> {

  public record Increment(ActorRef<Long> replyTo) {}

  public record Incremented(long by) implements CborSerializable {}

  public record State(long value) implements CborSerializable {}

  public static Behavior<Increment> create(String id) {
    return new Counter(PersistenceId.of("BenchCounter", id));
  }

  private Counter(PersistenceId id) {
    super(id);
  }

  @Override
  public State emptyState() {
    return new State(0);
  }

  @Override
  public CommandHandler<Increment, Incremented, State> commandHandler() {
    return newCommandHandlerBuilder().forAnyState()
        .onCommand(Increment.class, (state, cmd) -> Effect().persist(new Incremented(1))
            .thenReply(cmd.replyTo(), s -> s.value()))
        .build();
  }

  @Override
  public EventHandler<State, Incremented> eventHandler() {
    return newEventHandlerBuilder().forAnyState()
        .onEvent(Incremented.class, (state, e) -> new State(state.value() + e.by()))
        .build();
  }
}
