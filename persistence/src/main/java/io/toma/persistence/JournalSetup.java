package io.toma.persistence;

import com.typesafe.config.Config;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import org.apache.pekko.Done;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.actor.typed.DispatcherSelector;
import org.apache.pekko.persistence.jdbc.testkit.javadsl.SchemaUtils;

/**
 * Creates the journal and snapshot tables when they are missing, so a fresh data directory or an
 * empty PostgreSQL database needs no manual step. Uses the plugin's own schema scripts; not H2's
 * {@code INIT=RUNSCRIPT}, whose unique index has no IF NOT EXISTS and breaks the second connection.
 */
public final class JournalSetup {
  /** The table the JDBC plugin writes events to; its presence means the schema exists. */
  static final String EVENT_TABLE = "event_journal";

  private JournalSetup() {}

  /**
   * Completes once the tables exist; safe to call on every start. The plugin's script is only run
   * when the event table is missing: re-running it fails on the existing index, and H2 records
   * every such failure in a trace file next to the journal.
   */
  public static CompletionStage<Done> createTablesIfMissing(ActorSystem<?> system) {
    Config db =
        system.settings().config().getConfig(
            "pekko-persistence-jdbc.shared-databases." + JournalConfig.SHARED_DB + ".db");
    return CompletableFuture.supplyAsync(
            () -> eventTableExists(db), system.dispatchers().lookup(DispatcherSelector.blocking()))
        .thenCompose(exists -> exists ? CompletableFuture.completedFuture(Done.getInstance())
            : SchemaUtils.createIfNotExists(system));
  }

  private static boolean eventTableExists(Config db) {
    try (Connection connection =
            DriverManager.getConnection(
                db.getString("url"), db.getString("user"), db.getString("password"));
        ResultSet tables = connection.getMetaData().getTables(null, null, EVENT_TABLE, null)) {
      return tables.next();
    } catch (SQLException e) {
      throw new IllegalStateException(
          "cannot reach the journal database at " + db.getString("url") + ": " + e.getMessage(), e);
    }
  }
}
