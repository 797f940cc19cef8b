package io.toma.bench;

import java.io.PrintStream;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * One benchmark's printed result: machine, date, command, settings, then one or more Markdown
 * tables and notes, so a run's output can be pasted into docs/benchmarks.md as it is.
 */
public final class Report {

  /** A Markdown table: a header and rows of already formatted cells. */
  public record Table(String caption, List<String> header, List<List<String>> rows) {
    public Table {
      header = List.copyOf(header);
      rows = List.copyOf(rows);
    }
  }

  private final String title;
  private final String command;
  private final Machine machine = Machine.current();
  private final Instant started = Instant.now().truncatedTo(ChronoUnit.SECONDS);
  private final Map<String, String> settings = new LinkedHashMap<>();
  private final List<Table> tables = new ArrayList<>();
  private final List<String> notes = new ArrayList<>();

  public Report(String title, String command) {
    this.title = title;
    this.command = command;
  }

  public Report setting(String key, Object value) {
    settings.put(key, String.valueOf(value));
    return this;
  }

  public Report table(Table table) {
    tables.add(table);
    return this;
  }

  public Report note(String note) {
    notes.add(note);
    return this;
  }

  public List<Table> tables() {
    return List.copyOf(tables);
  }

  public void print(PrintStream out) {
    out.println("### " + title);
    out.println();
    out.println("- machine: " + machine.describe());
    out.println("- date: " + started + " (load average at the end " + Machine.loadNow() + ")");
    out.println("- command: `" + command + "`");
    out.println("- log level: " + System.getenv().getOrDefault("TOMA_LOG_LEVEL", "INFO"));
    settings.forEach((k, v) -> out.println("- " + k + ": " + v));
    for (Table t : tables) {
      out.println();
      if (!t.caption().isEmpty()) {
        out.println(t.caption());
        out.println();
      }
      out.println("| " + String.join(" | ", t.header()) + " |");
      out.println("|" + "---|".repeat(t.header().size()));
      t.rows().forEach(r -> out.println("| " + String.join(" | ", r) + " |"));
    }
    if (!notes.isEmpty()) {
      out.println();
      notes.forEach(n -> out.println("- " + n));
    }
    out.println();
    out.flush();
  }
}
