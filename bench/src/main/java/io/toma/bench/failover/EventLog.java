package io.toma.bench.failover;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.toma.systemtest.Endpoint;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.stream.Stream;

/**
 * The events stream of one manager ({@code GET /api/v1/events}, server-sent events), kept in
 * memory: the failover stage events carry the time each stage was persisted.
 */
final class EventLog implements AutoCloseable {
  private static final ObjectMapper JSON = new ObjectMapper();

  /** One event as the API sends it. */
  record Event(String kind, String subject, String message, long timestampMillis) {}

  private final List<Event> events = new ArrayList<>();
  private volatile boolean closed;
  private volatile Optional<Stream<String>> lines = Optional.empty();

  private EventLog() {}

  static EventLog follow(Endpoint manager) {
    EventLog log = new EventLog();
    HttpRequest request = HttpRequest.newBuilder(
        URI.create("http://" + manager.host() + ":" + manager.httpPort() + "/api/v1/events")).GET().build();
    Thread t = new Thread(() -> {
      try {
        HttpResponse<Stream<String>> response =
            HttpClient.newHttpClient().send(request, HttpResponse.BodyHandlers.ofLines());
        log.lines = Optional.of(response.body());
        response.body().forEach(log::line);
      } catch (Exception e) {
        // The stream ends when the benchmark closes it or the manager goes away.
      }
    }, "bench-events");
    t.setDaemon(true);
    t.start();
    return log;
  }

  private void line(String line) {
    if (closed || !line.startsWith("data:")) {
      return;
    }
    try {
      JsonNode n = JSON.readTree(line.substring(5).trim());
      Event e = new Event(n.path("type").asText(n.path("kind").asText()), n.path("subject").asText(),
          n.path("message").asText(), n.path("timestampMillis").asLong());
      synchronized (events) {
        events.add(e);
      }
    } catch (Exception ignored) {
      // Not an event line we understand: keep following.
    }
  }

  /** The first event about {@code subject} at or after {@code sinceMillis} whose message starts with {@code prefix}. */
  Optional<Event> first(String subject, String prefix, long sinceMillis) {
    synchronized (events) {
      return events.stream()
          .filter(e -> e.subject().equals(subject) && e.timestampMillis() >= sinceMillis && e.message().startsWith(prefix))
          .findFirst();
    }
  }

  @Override
  public void close() {
    closed = true;
    lines.ifPresent(Stream::close);
  }
}
