package io.toma.persistence;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigFactory;
import com.typesafe.config.ConfigValueFactory;
import io.toma.config.TomaSettings;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import org.apache.pekko.actor.testkit.typed.javadsl.ActorTestKit;
import org.apache.pekko.actor.testkit.typed.javadsl.TestProbe;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.Behavior;
import org.apache.pekko.persistence.typed.PersistenceId;
import org.apache.pekko.persistence.typed.javadsl.CommandHandler;
import org.apache.pekko.persistence.typed.javadsl.EventHandler;
import org.apache.pekko.persistence.typed.javadsl.EventSourcedBehavior;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class JournalRecoveryTest {

  /** A tiny entity: a disk that records which extents it granted. */
  static final class GrantLog
      extends EventSourcedBehavior<GrantLog.Command, GrantLog.Event, GrantLog.State> {

    sealed interface Command extends KryoSerializable {}

    record Grant(String extent, Optional<String> volumeId, ActorRef<State> replyTo)
        implements Command {}

    record Get(ActorRef<State> replyTo) implements Command {}

    sealed interface Event extends CborSerializable {}

    record ExtentGranted(String extent, Optional<String> volumeId) implements Event {}

    record State(List<String> granted) implements CborSerializable {
      State with(String extent) {
        List<String> next = new ArrayList<>(granted);
        next.add(extent);
        return new State(List.copyOf(next));
      }
    }

    static Behavior<Command> create(String diskId) {
      return new GrantLog(PersistenceId.of("GrantLog", diskId));
    }

    private GrantLog(PersistenceId id) {
      super(id);
    }

    @Override
    public State emptyState() {
      return new State(List.of());
    }

    @Override
    public CommandHandler<Command, Event, State> commandHandler() {
      return newCommandHandlerBuilder()
          .forAnyState()
          .onCommand(
              Grant.class,
              (state, grant) ->
                  Effect()
                      .persist(new ExtentGranted(grant.extent(), grant.volumeId()))
                      .thenReply(grant.replyTo(), s -> s))
          .onCommand(Get.class, (state, get) -> Effect().reply(get.replyTo(), state))
          .build();
    }

    @Override
    public EventHandler<State, Event> eventHandler() {
      return newEventHandlerBuilder()
          .forAnyState()
          .onEvent(ExtentGranted.class, (state, event) -> state.with(event.extent()))
          .build();
    }
  }

  private static Config nodeConfig(Path dataDir) {
    Config base =
        ConfigFactory.load()
            .withValue("toma.data-dir", ConfigValueFactory.fromAnyRef(dataDir.toString()));
    TomaSettings settings = TomaSettings.load(base);
    return JournalConfig.overrides(settings).withFallback(base);
  }

  private static ActorTestKit startNode(Path dataDir) throws Exception {
    ActorTestKit kit = ActorTestKit.create("journal-recovery", nodeConfig(dataDir));
    JournalSetup.createTablesIfMissing(kit.system()).toCompletableFuture().get(30, TimeUnit.SECONDS);
    return kit;
  }

  @Test
  void anEntityPersistedIntoTheH2FileJournalIsRecoveredByTheNextActorSystem(@TempDir Path dataDir)
      throws Exception {
    Duration patience = Duration.ofSeconds(20);

    ActorTestKit first = startNode(dataDir);
    try {
      TestProbe<GrantLog.State> probe = first.createTestProbe();
      ActorRef<GrantLog.Command> disk = first.spawn(GrantLog.create("disk-1"));
      disk.tell(new GrantLog.Grant("ext-0", Optional.of("vol-1"), probe.ref()));
      probe.expectMessage(patience, new GrantLog.State(List.of("ext-0")));
      disk.tell(new GrantLog.Grant("ext-1", Optional.empty(), probe.ref()));
      probe.expectMessage(patience, new GrantLog.State(List.of("ext-0", "ext-1")));
    } finally {
      first.shutdownTestKit();
    }
    assertTrue(Files.exists(dataDir.resolve("journal.mv.db")), "H2 file under the data dir");

    ActorTestKit second = startNode(dataDir);
    try {
      TestProbe<GrantLog.State> probe = second.createTestProbe();
      ActorRef<GrantLog.Command> disk = second.spawn(GrantLog.create("disk-1"));
      disk.tell(new GrantLog.Get(probe.ref()));
      probe.expectMessage(patience, new GrantLog.State(List.of("ext-0", "ext-1")));
    } finally {
      second.shutdownTestKit();
    }
    // The second start found the tables and did not re-run the schema script (H2 would have
    // traced the failed CREATE INDEX into journal.trace.db).
    assertFalse(Files.exists(dataDir.resolve("journal.trace.db")), "no H2 error trace");
  }

  @Test
  void thePostgresProfileIsSelectedByConfiguration() {
    Config base =
        ConfigFactory.parseString(
                "toma.journal = postgres, toma.jdbc.url = \"jdbc:postgresql://db:5432/toma\"")
            .withFallback(ConfigFactory.load());
    Config journal = JournalConfig.overrides(TomaSettings.load(base));
    assertEquals("jdbc-journal", journal.getString("pekko.persistence.journal.plugin"));
    assertEquals(
        "slick.jdbc.PostgresProfile$",
        journal.getString("pekko-persistence-jdbc.shared-databases.toma.profile"));
    assertEquals(
        "jdbc:postgresql://db:5432/toma",
        journal.getString("pekko-persistence-jdbc.shared-databases.toma.db.url"));
  }

  @Test
  void theH2JournalLivesUnderTheDataDirectory(@TempDir Path dataDir) {
    Config journal = nodeConfig(dataDir);
    // events up to 16 KiB stay in their journal row (H2 would move any BLOB over 256 bytes to its LOB store)
    assertEquals(
        "jdbc:h2:file:" + dataDir.toAbsolutePath().normalize().resolve("journal") + ";MAX_LENGTH_INPLACE_LOB=16384",
        journal.getString("pekko-persistence-jdbc.shared-databases.toma.db.url"));
    assertEquals("slick.jdbc.H2Profile$", journal.getString("pekko-persistence-jdbc.shared-databases.toma.profile"));
  }
}
