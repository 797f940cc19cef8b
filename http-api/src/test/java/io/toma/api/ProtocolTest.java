package io.toma.api;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.net.URI;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;

/** HTTP behaviour around the calls: unknown paths, methods, media types, sizes, metrics, events, demo. */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class ProtocolTest {

  InMemoryCluster cluster;
  ApiTestServer server;
  ApiTestServer noDemo;

  @BeforeAll
  void start() {
    cluster = new InMemoryCluster();
    cluster.events.add(new ApiEvent(ApiEvent.Type.FAULT_DETECTED, "node-b", "disk node-b-nvme0 lost", 1000));
    cluster.events.add(new ApiEvent(ApiEvent.Type.REPAIR_STEP, "vol-1", "rebuilding leg 0 on node-c", 2000));
    server = ApiTestServer.start(cluster, true, ApiAuth.disabled());
    noDemo = ApiTestServer.start(new InMemoryCluster(), false, ApiAuth.disabled());
  }

  @AfterAll
  void stop() {
    server.close();
    noDemo.close();
  }

  @Test
  void an_unknown_path_is_a_404_problem() {
    var r = server.get("/api/v1/snapshots");
    assertEquals(404, r.status());
    assertTrue(r.contentType().startsWith("application/problem+json"));
    assertTrue(r.json().get("detail").asText().contains("openapi.yaml"));
  }

  @Test
  void a_wrong_method_is_a_405_problem_that_lists_the_allowed_ones() {
    var r = server.send("PUT", "/api/v1/volumes", "{}", "application/json", null);
    assertEquals(405, r.status());
    assertEquals("GET, POST", r.raw().headers().firstValue("Allow").orElseThrow());
    assertEquals(405, r.json().get("status").asInt());
  }

  @Test
  void a_body_that_is_not_json_by_content_type_is_415() {
    var r = server.send("POST", "/api/v1/volumes", "name=db1", "application/x-www-form-urlencoded", null);
    assertEquals(415, r.status());
    assertTrue(r.contentType().startsWith("application/problem+json"));
  }

  @Test
  void a_body_larger_than_64_kib_is_413() {
    var r = server.post("/api/v1/volumes", "{\"name\":\"" + "a".repeat(70_000) + "\"}");
    assertEquals(413, r.status());
  }

  @Test
  void a_chunked_body_larger_than_64_kib_is_413_too() throws Exception {
    byte[] big = ("{\"name\":\"" + "a".repeat(70_000) + "\"}").getBytes(StandardCharsets.UTF_8);
    HttpRequest req = HttpRequest.newBuilder(URI.create(server.base() + "/api/v1/volumes"))
        .header("Content-Type", "application/json")
        .POST(HttpRequest.BodyPublishers.ofInputStream(() -> new java.io.ByteArrayInputStream(big)))
        .build();
    HttpResponse<String> r = server.client.send(req, HttpResponse.BodyHandlers.ofString());
    assertEquals(413, r.statusCode(), r.body());
    assertTrue(r.headers().firstValue("Content-Type").orElse("").startsWith("application/problem+json"));
  }

  @Test
  void malformed_json_is_a_400_that_says_where() {
    var r = server.post("/api/v1/volumes", "{\"name\": \"db1\",,}");
    assertEquals(400, r.status());
    assertTrue(r.json().get("detail").asText().contains("line 1"), r.body());
    var dup = server.post("/api/v1/volumes", "{\"name\":\"a\",\"name\":\"b\",\"size\":\"1GiB\"}");
    assertEquals(400, dup.status());
    assertTrue(dup.json().get("detail").asText().contains("name"), dup.body());
  }

  @Test
  void an_unknown_query_parameter_is_refused_by_name() {
    var r = server.get("/api/v1/nodes?verbose=1");
    assertEquals(400, r.status());
    assertEquals("verbose", r.json().get("field").asText());
  }

  @Test
  void nodes_are_listed_cordoned_uncordoned_and_drained() {
    var nodes = server.get("/api/v1/nodes").json();
    assertEquals(3, nodes.size());
    var n = nodes.get(0);
    for (String f : new String[] {"id", "roles", "zone", "rack", "status", "cordoned", "disks"}) {
      assertTrue(n.has(f), "node has " + f);
    }
    for (String f : new String[] {"id", "sizeBytes", "freeBytes", "state"}) {
      assertTrue(n.get("disks").get(0).has(f), "disk has " + f);
    }
    assertTrue(server.post("/api/v1/nodes/node-b/cordon", null).json().get("cordoned").asBoolean());
    assertTrue(!server.post("/api/v1/nodes/node-b/uncordon", null).json().get("cordoned").asBoolean());
    var drain = server.post("/api/v1/nodes/node-b/drain", null);
    assertEquals(202, drain.status());
    assertEquals(404, server.post("/api/v1/nodes/node-z/cordon", null).status());
  }

  @Test
  void a_node_plan_is_plain_text() {
    var r = server.get("/api/v1/nodes/node-a/plan");
    assertEquals(200, r.status());
    assertTrue(r.contentType().startsWith("text/plain"));
    assertTrue(r.body().contains("dmsetup create"));
  }

  @Test
  void the_cluster_summary_counts_volumes_by_state() {
    server.post("/api/v1/volumes", "{\"name\":\"counted\",\"size\":\"1GiB\"}");
    var c = server.get("/api/v1/cluster").json();
    assertEquals(3, c.get("members").size());
    assertEquals(0, c.get("unreachableMembers").size());
    assertTrue(c.get("volumesByState").get("Online").asInt() >= 1);
    assertEquals(0, c.get("volumesByState").get("Degraded").asInt());
    assertEquals("rebuild", c.get("repairs").get(0).get("kind").asText());
  }

  @Test
  void events_arrive_as_server_sent_events() throws Exception {
    HttpRequest req = HttpRequest.newBuilder(URI.create(server.base() + "/api/v1/events")).build();
    HttpResponse<java.io.InputStream> r = server.client.send(req, HttpResponse.BodyHandlers.ofInputStream());
    assertEquals(200, r.statusCode());
    assertTrue(r.headers().firstValue("Content-Type").orElse("").startsWith("text/event-stream"));
    List<String> lines = new ArrayList<>();
    try (BufferedReader in = new BufferedReader(new InputStreamReader(r.body(), StandardCharsets.UTF_8))) {
      String line;
      while ((line = in.readLine()) != null) {
        lines.add(line);
      }
    }
    assertEquals("event: fault-detected", lines.get(0));
    assertTrue(lines.get(1).startsWith("data: {") && lines.get(1).contains("disk node-b-nvme0 lost"), lines.get(1));
    assertTrue(lines.contains("event: repair-step"));
  }

  @Test
  void demo_faults_are_injected_and_healed_only_in_demo_mode() {
    var injected = server.post("/api/v1/demo/faults", "{\"kind\":\"link\",\"target\":\"node-a\",\"peer\":\"node-b\"}");
    assertEquals(200, injected.status(), injected.body());
    assertEquals(FaultKind.LINK, cluster.faults.get(0).kind());
    assertEquals(Optional.of("node-b"), cluster.faults.get(0).peer());
    var healed = server.post("/api/v1/demo/heal", null);
    assertEquals(200, healed.status());
    assertTrue(cluster.faults.isEmpty());
    assertEquals(404, noDemo.post("/api/v1/demo/faults", "{\"kind\":\"node\",\"target\":\"node-a\"}").status());
    assertEquals(404, noDemo.post("/api/v1/demo/heal", null).status());
  }

  @Test
  void metrics_count_requests_by_route_and_status() {
    server.get("/api/v1/volumes/vol-404");
    var m = server.get("/metrics");
    assertEquals(200, m.status());
    assertTrue(m.body().contains("toma_api_requests_total{method=\"GET\",route=\"/api/v1/volumes/{id}\",status=\"404\"}"), m.body());
    assertTrue(m.body().contains("toma_api_request_duration_seconds_bucket"));
  }

  @Test
  void the_openapi_document_is_served_as_yaml() {
    var r = server.get("/api/v1/openapi.yaml");
    assertTrue(r.contentType().startsWith("application/yaml"));
    assertTrue(r.body().startsWith("openapi: 3"));
  }
}
