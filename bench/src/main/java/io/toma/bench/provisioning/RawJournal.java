package io.toma.bench.provisioning;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.actor.typed.Props;
import org.apache.pekko.actor.typed.javadsl.AskPattern;

/** The journal's raw write limit: events per second persisted by {@link Counter} entities. */
final class RawJournal {
  private static final Duration TIMEOUT = Duration.ofSeconds(60);

  private RawJournal() {}

  /** One entity persisting {@code events} events, one after the other. */
  static double sequential(ActorSystem<?> system, String run, int events) {
    ActorRef<Counter.Increment> counter = system.systemActorOf(Counter.create(run + "-seq"), run + "-seq", Props.empty());
    increment(system, counter).toCompletableFuture().join(); // recovery and first write out of the timing
    long start = System.nanoTime();
    for (int i = 0; i < events; i++) {
      increment(system, counter).toCompletableFuture().join();
    }
    return events / ((System.nanoTime() - start) / 1e9);
  }

  /** {@code entities} entities at once, each persisting {@code eventsEach} events one after the other. */
  static double concurrent(ActorSystem<?> system, String run, int entities, int eventsEach) {
    List<ActorRef<Counter.Increment>> counters = new ArrayList<>();
    for (int i = 0; i < entities; i++) {
      counters.add(system.systemActorOf(Counter.create(run + "-" + i), run + "-" + i, Props.empty()));
    }
    // Recover every entity before the clock starts (recovery is a read, not the write limit).
    CompletableFuture.allOf(counters.stream().map(c -> increment(system, c).toCompletableFuture())
        .toArray(CompletableFuture[]::new)).join();
    long start = System.nanoTime();
    List<CompletableFuture<Long>> chains = new ArrayList<>();
    for (ActorRef<Counter.Increment> c : counters) {
      CompletionStage<Long> chain = increment(system, c);
      for (int i = 1; i < eventsEach; i++) {
        chain = chain.thenCompose(v -> increment(system, c));
      }
      chains.add(chain.toCompletableFuture());
    }
    CompletableFuture.allOf(chains.toArray(CompletableFuture[]::new)).join();
    return (double) entities * eventsEach / ((System.nanoTime() - start) / 1e9);
  }

  private static CompletionStage<Long> increment(ActorSystem<?> system, ActorRef<Counter.Increment> counter) {
    return AskPattern.ask(counter, Counter.Increment::new, TIMEOUT, system.scheduler());
  }
}
