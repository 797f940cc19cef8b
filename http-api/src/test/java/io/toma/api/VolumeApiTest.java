package io.toma.api;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;

@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class VolumeApiTest {

  static final String NQN = "nqn.2014-08.org.nvmexpress:uuid:6f1c2a52-8c1e-4b8a-9f0e-1c2d3e4f5a6b";

  InMemoryCluster cluster;
  ApiTestServer server;

  @BeforeAll
  void start() {
    cluster = new InMemoryCluster();
    server = ApiTestServer.start(cluster, false, ApiAuth.disabled());
  }

  @AfterAll
  void stop() {
    server.close();
  }

  String create(String name, String size) {
    return "{\"name\":\"" + name + "\",\"size\":" + size
        + ",\"layout\":{\"legs\":2,\"replicas\":2,\"standbyControllers\":1},\"failureDomain\":\"node\"}";
  }

  @Test
  void a_created_volume_is_answered_with_201_and_every_field_of_the_contract() {
    var r = server.post("/api/v1/volumes", create("db1", "\"100GiB\""));
    assertEquals(201, r.status(), r.body());
    assertTrue(r.contentType().startsWith("application/json"));
    JsonNode v = r.json();
    assertEquals("db1", v.get("name").asText());
    assertEquals(100L << 30, v.get("sizeBytes").asLong());
    assertEquals("Online", v.get("state").asText());
    assertTrue(v.get("reason").isNull());
    assertEquals(1, v.get("epoch").asLong());
    assertEquals(2, v.get("layout").get("legs").asInt());
    assertEquals(1, v.get("layout").get("standbyControllers").asInt());
    assertEquals("node", v.get("failureDomain").asText());
    JsonNode replica = v.get("legs").get(0).get("replicas").get(0);
    for (String f : new String[] {"disk", "node", "rack", "zone", "state", "syncPercent"}) {
      assertTrue(replica.has(f), "replica has " + f);
    }
    assertEquals(0, v.get("legs").get(0).get("index").asInt());
    assertEquals("active", v.get("controllers").get(0).get("role").asText());
    assertEquals("optimized", v.get("controllers").get(0).get("anaState").asText());
    assertTrue(v.get("attachments").isArray());
    assertEquals("/api/v1/volumes/" + v.get("id").asText(), r.raw().headers().firstValue("Location").orElseThrow());

    var got = server.get("/api/v1/volumes/" + v.get("id").asText());
    assertEquals(200, got.status());
    assertEquals(v, got.json());
  }

  @Test
  void a_retried_create_with_the_same_spec_returns_the_existing_volume_without_a_duplicate() {
    var first = server.post("/api/v1/volumes", create("retry", "1073741824"));
    int count = cluster.volumeCount();
    var again = server.post("/api/v1/volumes", create("retry", "\"1GiB\""));
    assertEquals(201, first.status());
    assertEquals(200, again.status(), again.body());
    assertEquals(first.json().get("id"), again.json().get("id"));
    assertEquals(count, cluster.volumeCount());
  }

  @Test
  void the_same_name_with_another_spec_is_a_409_conflict() {
    server.post("/api/v1/volumes", create("clash", "\"1GiB\""));
    var r = server.post("/api/v1/volumes", create("clash", "\"2GiB\""));
    assertEquals(409, r.status());
    assertTrue(r.contentType().startsWith("application/problem+json"));
    assertEquals(409, r.json().get("status").asInt());
    assertTrue(r.json().get("detail").asText().contains("another spec"));
  }

  @Test
  void a_layout_no_placement_can_satisfy_is_a_409_with_the_placement_reason() {
    var r = server.post("/api/v1/volumes",
        "{\"name\":\"zonal\",\"size\":\"1GiB\",\"layout\":{\"replicas\":3},\"failureDomain\":\"zone\"}");
    assertEquals(409, r.status());
    assertTrue(r.json().get("detail").asText().startsWith("no placement"), r.body());
  }

  @Test
  void a_create_without_layout_gets_the_default_layout_and_node_failure_domain() {
    var r = server.post("/api/v1/volumes", "{\"name\":\"defaults\",\"size\":\"8MiB\"}");
    assertEquals(201, r.status(), r.body());
    assertEquals(1, r.json().get("layout").get("legs").asInt());
    assertEquals(2, r.json().get("layout").get("replicas").asInt());
    assertEquals("node", r.json().get("failureDomain").asText());
  }

  @Test
  void the_volume_list_is_paged() {
    for (int i = 0; i < 5; i++) {
      server.post("/api/v1/volumes", create("page-" + i, "\"1GiB\""));
    }
    var first = server.get("/api/v1/volumes?limit=2&offset=0").json();
    var total = first.get("total").asInt();
    assertEquals(2, first.get("items").size());
    assertEquals(2, first.get("limit").asInt());
    var last = server.get("/api/v1/volumes?limit=2&offset=" + (total - 1)).json();
    assertEquals(1, last.get("items").size());
    assertEquals(total, cluster.volumeCount());
    var bad = server.get("/api/v1/volumes?limit=0");
    assertEquals(400, bad.status());
    assertEquals("limit", bad.json().get("field").asText());
  }

  @Test
  void a_host_is_attached_then_detached() {
    String id = server.post("/api/v1/volumes", create("shared", "\"1GiB\"")).json().get("id").asText();
    var attached = server.post("/api/v1/volumes/" + id + "/attachments", "{\"hostNqn\":\"" + NQN + "\"}");
    assertEquals(200, attached.status(), attached.body());
    assertEquals(NQN, attached.json().get("attachments").get(0).asText());
    var detached = server.delete("/api/v1/volumes/" + id + "/attachments/" + NQN);
    assertEquals(200, detached.status(), detached.body());
    assertEquals(0, detached.json().get("attachments").size());
    var again = server.delete("/api/v1/volumes/" + id + "/attachments/" + NQN);
    assertEquals(404, again.status());
  }

  @Test
  void a_volume_grows_but_shrinking_is_refused_with_a_reason() {
    String id = server.post("/api/v1/volumes", create("grow", "\"1GiB\"")).json().get("id").asText();
    var grown = server.post("/api/v1/volumes/" + id + "/resize", "{\"size\":\"2GiB\"}");
    assertEquals(200, grown.status(), grown.body());
    assertEquals(2L << 30, grown.json().get("sizeBytes").asLong());
    var shrunk = server.post("/api/v1/volumes/" + id + "/resize", "{\"size\":\"1GiB\"}");
    assertEquals(400, shrunk.status());
    assertEquals("size", shrunk.json().get("field").asText());
    assertTrue(shrunk.json().get("detail").asText().contains("shrinking is refused"));
    assertEquals(2L << 30, server.get("/api/v1/volumes/" + id).json().get("sizeBytes").asLong());
  }

  @Test
  void a_deleted_volume_is_answered_deleting_and_then_not_found() {
    String id = server.post("/api/v1/volumes", create("gone", "\"1GiB\"")).json().get("id").asText();
    var deleted = server.delete("/api/v1/volumes/" + id);
    assertEquals(202, deleted.status());
    assertEquals("Deleting", deleted.json().get("state").asText());
    var missing = server.get("/api/v1/volumes/" + id);
    assertEquals(404, missing.status());
    assertTrue(missing.contentType().startsWith("application/problem+json"));
    assertEquals("urn:toma:problem:not-found", missing.json().get("type").asText());
  }

  @Test
  void an_id_that_cannot_exist_is_not_found_without_asking_the_cluster() {
    var r = server.get("/api/v1/volumes/%E2%98%83snow");
    assertEquals(404, r.status());
    assertEquals(404, r.json().get("status").asInt());
  }
}
