package io.toma.bench.provisioning;

import com.typesafe.config.Config;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.Map;
import java.util.TreeMap;

/**
 * Counts rows in the JDBC journal, by entity type (the persistence id's prefix before "|"). In the
 * same JVM an H2 file URL opens the database the journal already has open, so this reads live.
 */
final class JournalTables {
  private JournalTables() {}

  /** Rows per entity type, plus "(snapshots)". */
  static Map<String, Long> eventsByEntityType(Config config) {
    Map<String, Long> counts = new TreeMap<>();
    eventsByPersistenceId(config).forEach((id, n) -> {
      int bar = id.indexOf('|');
      counts.merge(bar < 0 ? id : id.substring(0, bar), n, Long::sum);
    });
    return counts;
  }

  /** Rows per persistence id, plus "(snapshots)". */
  static Map<String, Long> eventsByPersistenceId(Config config) {
    Config db = config.getConfig("pekko-persistence-jdbc.shared-databases.toma.db");
    Map<String, Long> counts = new TreeMap<>();
    try (Connection c = DriverManager.getConnection(db.getString("url"), db.getString("user"), db.getString("password"));
        Statement s = c.createStatement()) {
      try (ResultSet rs = s.executeQuery("SELECT \"persistence_id\" FROM \"event_journal\"")) {
        while (rs.next()) {
          counts.merge(rs.getString(1), 1L, Long::sum);
        }
      }
      try (ResultSet rs = s.executeQuery("SELECT count(*) FROM \"snapshot\"")) {
        rs.next();
        counts.put("(snapshots)", rs.getLong(1));
      }
    } catch (SQLException e) {
      throw new IllegalStateException("cannot read the journal tables: " + e.getMessage(), e);
    }
    return counts;
  }
}
