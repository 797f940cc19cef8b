package io.toma.api;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import java.util.Optional;
import org.apache.pekko.http.javadsl.server.AllDirectives;
import org.apache.pekko.http.javadsl.server.Route;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;

@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class AuthTest extends AllDirectives {

  static final String WRITER = "s3cret-writer";
  static final String READER = "s3cret-reader";

  InMemoryCluster cluster;
  ApiTestServer server;

  @BeforeAll
  void start() {
    cluster = new InMemoryCluster();
    ApiAuth auth = ApiAuth.of(List.of(
        new ApiAuth.Token(WRITER, ApiAuth.Access.READ_WRITE), new ApiAuth.Token(READER, ApiAuth.Access.READ_ONLY)));
    // The API first and a stand-in health route after it: the API must let health through.
    Route health = path(org.apache.pekko.http.javadsl.server.PathMatchers.segment("api").slash("v1").slash("health"), () -> get(() -> complete("{\"status\":\"up\"}")));
    server = new ApiTestServer(concat(ApiServer.routes(cluster, cluster, Optional.empty(), auth), health));
  }

  @AfterAll
  void stop() {
    server.close();
  }

  @Test
  void a_call_without_a_token_is_401_with_a_bearer_challenge() {
    var r = server.get("/api/v1/volumes");
    assertEquals(401, r.status());
    assertTrue(r.contentType().startsWith("application/problem+json"));
    assertTrue(r.raw().headers().firstValue("WWW-Authenticate").orElse("").startsWith("Bearer"));
  }

  @Test
  void a_call_with_a_wrong_token_is_401() {
    assertEquals(401, server.send("GET", "/api/v1/volumes", null, null, "guess").status());
    assertEquals(401, server.send("GET", "/api/v1/volumes", null, null, WRITER + "x").status());
  }

  @Test
  void a_read_only_token_reads_but_cannot_write() {
    assertEquals(200, server.send("GET", "/api/v1/volumes", null, null, READER).status());
    int before = cluster.volumeCount();
    var r = server.send("POST", "/api/v1/volumes", "{\"name\":\"ro\",\"size\":\"1GiB\"}", "application/json", READER);
    assertEquals(403, r.status());
    assertTrue(r.json().get("detail").asText().contains("read-only"));
    assertEquals(before, cluster.volumeCount());
    assertEquals(403, server.send("POST", "/api/v1/nodes/node-a/cordon", null, null, READER).status());
  }

  @Test
  void a_read_write_token_creates_a_volume() {
    var r = server.send("POST", "/api/v1/volumes", "{\"name\":\"rw\",\"size\":\"1GiB\"}", "application/json", WRITER);
    assertEquals(201, r.status(), r.body());
  }

  @Test
  void health_metrics_and_the_openapi_document_stay_open() {
    var health = server.get("/api/v1/health");
    assertEquals(200, health.status(), health.body());
    assertTrue(health.body().contains("up"));
    assertEquals(200, server.get("/metrics").status());
    assertEquals(200, server.get("/api/v1/openapi.yaml").status());
  }

  @Test
  void an_invalid_request_without_a_token_is_401_before_its_body_is_judged() {
    assertEquals(401, server.post("/api/v1/volumes", "{not json").status());
  }

  @Test
  void a_browser_event_source_authenticates_the_event_stream_with_a_query_token() {
    var r = server.get("/api/v1/events?access_token=" + READER);
    assertEquals(200, r.status(), r.body());
    assertTrue(r.contentType().startsWith("text/event-stream"), r.contentType());
    assertEquals(401, server.get("/api/v1/events?access_token=guess").status());
    var bare = server.get("/api/v1/events");
    assertEquals(401, bare.status());
    assertTrue(bare.json().get("detail").asText().contains("access_token"), bare.body());
  }

  @Test
  void a_query_token_is_refused_everywhere_but_the_event_stream() {
    var r = server.get("/api/v1/volumes?access_token=" + WRITER);
    assertEquals(401, r.status());
    int before = cluster.volumeCount();
    assertEquals(401, server.send("POST", "/api/v1/volumes?access_token=" + WRITER,
        "{\"name\":\"q\",\"size\":\"1GiB\"}", "application/json", null).status());
    assertEquals(before, cluster.volumeCount());
  }
}
