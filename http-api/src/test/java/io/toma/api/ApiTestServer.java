package io.toma.api;

import com.fasterxml.jackson.databind.JsonNode;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.actor.typed.javadsl.Behaviors;
import org.apache.pekko.http.javadsl.ServerBinding;
import org.apache.pekko.http.javadsl.server.Route;

/** A real server on a random loopback port, with a real HTTP client, for route and CLI tests. */
public final class ApiTestServer implements AutoCloseable {

  final ActorSystem<Void> system;
  final ServerBinding binding;
  final HttpClient client = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(10)).build();

  /** One HTTP answer: status, content type, body. */
  public record Reply(int status, String contentType, String body, HttpResponse<String> raw) {
    public JsonNode json() {
      try {
        return Json.MAPPER.readTree(body);
      } catch (IOException e) {
        throw new AssertionError("not JSON (" + status + "): " + body, e);
      }
    }
  }

  ApiTestServer(Route route) {
    system = ActorSystem.create(Behaviors.empty(), "api-test");
    try {
      binding = ApiServer.bind(system, "127.0.0.1", 0, route).toCompletableFuture().get(30, TimeUnit.SECONDS);
    } catch (Exception e) {
      system.terminate();
      throw new IllegalStateException("server did not bind", e);
    }
  }

  public static ApiTestServer start(InMemoryCluster cluster, boolean demo, ApiAuth auth) {
    return new ApiTestServer(ApiServer.routes(cluster, cluster, demo ? Optional.of(cluster) : Optional.empty(), auth));
  }

  public String base() {
    return "http://127.0.0.1:" + binding.localAddress().getPort();
  }

  Reply send(String method, String path, String body, String contentType, String token) {
    HttpRequest.Builder b = HttpRequest.newBuilder(URI.create(base() + path)).timeout(Duration.ofSeconds(30));
    if (contentType != null) {
      b.header("Content-Type", contentType);
    }
    if (token != null) {
      b.header("Authorization", "Bearer " + token);
    }
    b.method(method, body == null ? HttpRequest.BodyPublishers.noBody() : HttpRequest.BodyPublishers.ofString(body));
    try {
      HttpResponse<String> r = client.send(b.build(), HttpResponse.BodyHandlers.ofString());
      return new Reply(r.statusCode(), r.headers().firstValue("Content-Type").orElse(""), r.body(), r);
    } catch (IOException | InterruptedException e) {
      throw new AssertionError(method + " " + path + " failed", e);
    }
  }

  public Reply get(String path) {
    return send("GET", path, null, null, null);
  }

  public Reply post(String path, String json) {
    return send("POST", path, json, "application/json", null);
  }

  Reply delete(String path) {
    return send("DELETE", path, null, null, null);
  }

  @Override
  public void close() {
    try {
      // Close the client's kept-alive connections at once rather than waiting for them to idle out.
      binding.terminate(Duration.ofSeconds(1)).toCompletableFuture().get(30, TimeUnit.SECONDS);
      system.terminate();
      system.getWhenTerminated().toCompletableFuture().get(30, TimeUnit.SECONDS);
    } catch (Exception e) {
      throw new IllegalStateException("actor system did not terminate", e);
    }
  }
}
