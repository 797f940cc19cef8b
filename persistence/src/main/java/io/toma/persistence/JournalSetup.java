package io.toma.persistence;

import java.util.concurrent.CompletionStage;
import org.apache.pekko.Done;
import org.apache.pekko.actor.ClassicActorSystemProvider;
import org.apache.pekko.persistence.jdbc.testkit.javadsl.SchemaUtils;

/**
 * Creates the journal and snapshot tables when they are missing, so a fresh data directory or an
 * empty PostgreSQL database needs no manual step. Uses the plugin's own schema scripts; not H2's
 * {@code INIT=RUNSCRIPT}, whose unique index has no IF NOT EXISTS and breaks the second connection.
 */
public final class JournalSetup {
  private JournalSetup() {}

  /** Completes once the tables exist; safe to call on every start. */
  public static CompletionStage<Done> createTablesIfMissing(ClassicActorSystemProvider system) {
    return SchemaUtils.createIfNotExists(system);
  }
}
