package io.toma.persistence;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigFactory;
import io.toma.config.TomaSettings;
import io.toma.config.TomaSettings.JournalKind;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.Map;

/**
 * The Pekko settings that put events and snapshots where {@link TomaSettings#journal()} says: an
 * embedded H2 file under the data directory ({@code toma.journal = h2}, the default) or a shared
 * PostgreSQL ({@code toma.journal = postgres}, needed once several managers host entities).
 */
public final class JournalConfig {
  static final String SHARED_DB = "toma";

  private JournalConfig() {}

  /**
   * Payloads up to this size stay in the journal row. The JDBC plugin's H2 schema stores events as
   * BLOBs, and H2 moves any BLOB longer than 256 bytes (its default) to a separate LOB store: most
   * volume events are larger (a placement is ~1 KB of CBOR), so each write cost a LOB insert, and
   * its clean-up, on top of the row (docs/benchmarks.md §2).
   */
  static final int INPLACE_LOB_BYTES = 16 * 1024;

  /** The H2 URL for a data directory; H2 refuses paths that are not absolute. */
  public static String h2Url(Path dataDir) {
    return "jdbc:h2:file:" + dataDir.toAbsolutePath().normalize().resolve("journal")
        + ";MAX_LENGTH_INPLACE_LOB=" + INPLACE_LOB_BYTES;
  }

  /** Layer over the node's configuration: {@code JournalConfig.overrides(s).withFallback(base)}. */
  public static Config overrides(TomaSettings settings) {
    TomaSettings.Journal journal = settings.journal();
    String db = "pekko-persistence-jdbc.shared-databases." + SHARED_DB;
    Map<String, Object> values = new HashMap<>();
    values.put("pekko.persistence.journal.plugin", "jdbc-journal");
    values.put("pekko.persistence.snapshot-store.plugin", "jdbc-snapshot-store");
    values.put("jdbc-journal.use-shared-db", SHARED_DB);
    values.put("jdbc-snapshot-store.use-shared-db", SHARED_DB);
    values.put("jdbc-read-journal.use-shared-db", SHARED_DB);
    // Measured on two cores (STACK.md): parallelism equal to a small pool beat bigger ones.
    values.put("jdbc-journal.parallelism", journal.maxConnections());
    values.put(db + ".db.user", journal.user());
    values.put(db + ".db.password", journal.password());
    values.put(db + ".db.maxConnections", journal.maxConnections());
    values.put(db + ".db.numThreads", journal.maxConnections());
    if (journal.kind() == JournalKind.H2) {
      values.put(db + ".profile", "slick.jdbc.H2Profile$");
      values.put(db + ".db.driver", "org.h2.Driver");
      values.put(db + ".db.url", journal.jdbcUrl().orElse(h2Url(settings.dataDir())));
    } else {
      values.put(db + ".profile", "slick.jdbc.PostgresProfile$");
      values.put(db + ".db.driver", "org.postgresql.Driver");
      values.put(db + ".db.url", journal.jdbcUrl().orElseThrow());
    }
    return ConfigFactory.parseMap(values, "Toma journal (" + journal.kind().configName() + ")");
  }
}
