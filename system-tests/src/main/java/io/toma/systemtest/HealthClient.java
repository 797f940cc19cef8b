package io.toma.systemtest;

import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;

/** Asks one node's HTTP API for {@code /api/v1/health}. */
public final class HealthClient {
  private static final ObjectMapper JSON = new ObjectMapper();
  private final HttpClient http =
      HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(2)).build();

  /** The answer, or what went wrong as a sealed result: a node that is down is not a bug here. */
  public sealed interface Answer permits Answered, NoAnswer {}

  public record Answered(Health health) implements Answer {}

  public record NoAnswer(String why) implements Answer {}

  public Answer get(Endpoint node, Duration timeout) {
    URI uri = URI.create("http://" + node.host() + ":" + node.httpPort() + "/api/v1/health");
    try {
      HttpResponse<String> response =
          http.send(
              HttpRequest.newBuilder(uri).timeout(timeout).GET().build(),
              HttpResponse.BodyHandlers.ofString());
      if (response.statusCode() != 200) {
        return new NoAnswer(uri + " answered " + response.statusCode() + ": " + response.body());
      }
      return new Answered(JSON.readValue(response.body(), Health.class));
    } catch (IOException e) {
      return new NoAnswer(uri + ": " + e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return new NoAnswer(uri + ": interrupted");
    }
  }
}
