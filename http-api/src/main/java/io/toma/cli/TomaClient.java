package io.toma.cli;

import com.fasterxml.jackson.databind.JsonNode;
import io.toma.api.Json;
import java.io.IOException;
import java.io.InputStream;
import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Optional;

/** The CLI's HTTP side: one call to the API, answered as status and body, or a failure to reach it. */
final class TomaClient {

  /** The server could not be reached or the call was interrupted: the CLI says so and exits 1. */
  static final class Unreachable extends Exception {
    Unreachable(String message, Throwable cause) {
      super(message, cause);
    }
  }

  record Answer(int status, String contentType, String body) {
    boolean ok() {
      return status >= 200 && status < 300;
    }

    JsonNode json() {
      try {
        return Json.MAPPER.readTree(body);
      } catch (IOException e) {
        return Json.MAPPER.getNodeFactory().textNode(body);
      }
    }

    /** The server's own words for a failure: its problem detail (and field), else the raw body. */
    String errorMessage() {
      JsonNode j = json();
      if (j.isObject() && j.hasNonNull("detail")) {
        String field = j.hasNonNull("field") ? " (field " + j.get("field").asText() + ")" : "";
        return j.get("detail").asText() + field;
      }
      return "HTTP " + status + (body.isBlank() ? "" : ": " + body.strip());
    }
  }

  private final String server;
  private final Optional<String> token;
  private final HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(10)).build();

  TomaClient(String server, Optional<String> token) {
    this.server = server.endsWith("/") ? server.substring(0, server.length() - 1) : server;
    this.token = token.filter(t -> !t.isBlank());
  }

  static String segment(String value) {
    return URLEncoder.encode(value, StandardCharsets.UTF_8).replace("+", "%20");
  }

  Answer call(String method, String path, Optional<Object> body) throws Unreachable {
    HttpRequest.Builder b = request(path).timeout(Duration.ofSeconds(60));
    if (body.isPresent()) {
      b.header("Content-Type", "application/json");
      b.method(method, HttpRequest.BodyPublishers.ofByteArray(Json.write(body.get())));
    } else {
      b.method(method, HttpRequest.BodyPublishers.noBody());
    }
    try {
      HttpResponse<String> r = http.send(b.build(), HttpResponse.BodyHandlers.ofString());
      return new Answer(r.statusCode(), r.headers().firstValue("Content-Type").orElse(""), r.body());
    } catch (IOException e) {
      throw new Unreachable("cannot reach the Toma server at " + server + ": " + describe(e), e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new Unreachable("interrupted", e);
    }
  }

  /** Opens a streaming GET (for events); the caller reads and closes the body. */
  HttpResponse<InputStream> stream(String path) throws Unreachable {
    try {
      return http.send(request(path).header("Accept", "text/event-stream").GET().build(),
          HttpResponse.BodyHandlers.ofInputStream());
    } catch (IOException e) {
      throw new Unreachable("cannot reach the Toma server at " + server + ": " + describe(e), e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new Unreachable("interrupted", e);
    }
  }

  private HttpRequest.Builder request(String path) throws Unreachable {
    URI uri;
    try {
      uri = URI.create(server + path);
    } catch (IllegalArgumentException e) {
      throw new Unreachable("'" + server + "' is not a server URL (expected e.g. http://127.0.0.1:8080)", e);
    }
    if (uri.getScheme() == null || !(uri.getScheme().equals("http") || uri.getScheme().equals("https")) || uri.getHost() == null) {
      throw new Unreachable("'" + server + "' is not a server URL (expected e.g. http://127.0.0.1:8080)", null);
    }
    HttpRequest.Builder b = HttpRequest.newBuilder(uri);
    token.ifPresent(t -> b.header("Authorization", "Bearer " + t));
    return b;
  }

  private static String describe(IOException e) {
    String m = e.getMessage();
    return m == null || m.isBlank() ? e.getClass().getSimpleName() : m;
  }
}
