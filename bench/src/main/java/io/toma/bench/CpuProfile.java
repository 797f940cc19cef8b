package io.toma.bench;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import jdk.jfr.Recording;
import jdk.jfr.consumer.RecordedEvent;
import jdk.jfr.consumer.RecordedFrame;
import jdk.jfr.consumer.RecordingFile;

/**
 * A JFR CPU profile of a stretch of a benchmark, boiled down to where the samples were: the share
 * of samples whose stack passes through each component (inclusive), and the hottest methods (self).
 */
public final class CpuProfile implements AutoCloseable {

  /** Components by package prefix, in the order a stack is attributed (first match wins). */
  static final Map<String, List<String>> COMPONENTS = new LinkedHashMap<>();

  static {
    COMPONENTS.put("H2 database engine", List.of("org.h2."));
    COMPONENTS.put("JDBC journal plugin, Slick, HikariCP", List.of("org.apache.pekko.persistence.jdbc.", "slick.", "com.zaxxer."));
    COMPONENTS.put("Jackson (CBOR events, JSON)", List.of("com.fasterxml.jackson."));
    COMPONENTS.put("Toma placement", List.of("io.toma.placement.", "io.toma.disk.ExtentAllocator"));
    COMPONENTS.put("Toma entities and desired state", List.of("io.toma."));
    COMPONENTS.put("Pekko distributed data (capacity view)", List.of("org.apache.pekko.cluster.ddata."));
    COMPONENTS.put("Pekko persistence (typed)", List.of("org.apache.pekko.persistence."));
    COMPONENTS.put("Pekko sharding", List.of("org.apache.pekko.cluster.sharding."));
    COMPONENTS.put("Pekko HTTP", List.of("org.apache.pekko.http."));
    COMPONENTS.put("Kryo", List.of("com.esotericsoftware."));
  }

  private final Recording recording = new Recording();

  public CpuProfile() {
    recording.enable("jdk.ExecutionSample").withPeriod(Duration.ofMillis(10));
    recording.start();
  }

  /** Stops the recording and summarises it as two tables. */
  public List<Report.Table> stop(String what) {
    recording.stop();
    Path file;
    try {
      file = Files.createTempFile("toma-bench", ".jfr");
      recording.dump(file);
      List<RecordedEvent> samples = RecordingFile.readAllEvents(file).stream()
          .filter(e -> e.getEventType().getName().equals("jdk.ExecutionSample")).toList();
      Files.deleteIfExists(file);
      return summarise(what, samples);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  private static List<Report.Table> summarise(String what, List<RecordedEvent> samples) {
    Map<String, Integer> inclusive = new LinkedHashMap<>();
    COMPONENTS.keySet().forEach(k -> inclusive.put(k, 0));
    Map<String, Integer> self = new HashMap<>();
    Map<String, Integer> tomaInclusive = new HashMap<>();
    int total = 0;
    for (RecordedEvent e : samples) {
      if (e.getStackTrace() == null || e.getStackTrace().getFrames().isEmpty()) {
        continue;
      }
      total++;
      List<RecordedFrame> frames = e.getStackTrace().getFrames();
      RecordedFrame top = frames.get(0);
      self.merge(top.getMethod().getType().getName() + "." + top.getMethod().getName(), 1, Integer::sum);
      java.util.Set<String> seen = new java.util.HashSet<>();
      for (RecordedFrame f : frames) {
        String type = f.getMethod().getType().getName();
        String simple = type.substring(type.lastIndexOf('.') + 1);
        // Lambda classes show up with numeric names: the enclosing lambda$ method says more.
        if (type.startsWith("io.toma.") && !type.startsWith("io.toma.bench.") && !Character.isDigit(simple.charAt(0))) {
          String m = simple + "." + f.getMethod().getName();
          if (seen.add(m)) {
            tomaInclusive.merge(m, 1, Integer::sum);
          }
        }
      }
      for (Map.Entry<String, List<String>> c : COMPONENTS.entrySet()) {
        boolean hit = frames.stream().anyMatch(f -> c.getValue().stream()
            .anyMatch(p -> f.getMethod().getType().getName().startsWith(p)));
        if (hit) {
          inclusive.merge(c.getKey(), 1, Integer::sum);
        }
      }
    }
    int n = Math.max(1, total);
    List<List<String>> byComponent = new ArrayList<>();
    inclusive.forEach((k, v) -> byComponent.add(List.of(k, pct(v, n))));
    List<List<String>> hottest = new ArrayList<>();
    self.entrySet().stream().sorted(Map.Entry.<String, Integer>comparingByValue().reversed()).limit(12)
        .forEach(en -> hottest.add(List.of("`" + en.getKey() + "`", pct(en.getValue(), n))));
    List<List<String>> toma = new ArrayList<>();
    tomaInclusive.entrySet().stream().sorted(Map.Entry.<String, Integer>comparingByValue().reversed()).limit(12)
        .forEach(en -> toma.add(List.of("`" + en.getKey() + "`", pct(en.getValue(), n))));
    return List.of(
        new Report.Table("CPU profile of " + what + " (" + total + " JFR samples, 10 ms): share of samples whose stack"
            + " passes through (a sample counts for every component on its stack)", List.of("component", "share"), byComponent),
        new Report.Table("hottest methods (self time)", List.of("method", "share"), hottest),
        new Report.Table("Toma methods on the stack (inclusive; lambdas named lambda$...)", List.of("method", "share"), toma));
  }

  private static String pct(int v, int n) {
    return String.format(Locale.ROOT, "%.1f %%", 100.0 * v / n);
  }

  @Override
  public void close() {
    recording.close();
  }
}
