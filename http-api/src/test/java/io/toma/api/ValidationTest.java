package io.toma.api;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/** Every validation error names its field, and a refused request changes nothing. */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class ValidationTest {

  InMemoryCluster cluster;
  ApiTestServer server;
  String volumeId;

  @BeforeAll
  void start() {
    cluster = new InMemoryCluster();
    server = ApiTestServer.start(cluster, true, ApiAuth.disabled());
    volumeId = server.post("/api/v1/volumes", "{\"name\":\"base\",\"size\":\"1GiB\"}").json().get("id").asText();
  }

  @AfterAll
  void stop() {
    server.close();
  }

  static String vol(String fields) {
    return "{" + fields + "}";
  }

  static Stream<Arguments> createErrors() {
    String size = "\"size\":\"1GiB\"";
    String name = "\"name\":\"v1\"";
    return Stream.of(
        Arguments.of("missing name", vol(size), "name"),
        Arguments.of("empty name", vol("\"name\":\"\"," + size), "name"),
        Arguments.of("uppercase name", vol("\"name\":\"DB1\"," + size), "name"),
        Arguments.of("name with a slash", vol("\"name\":\"a/b\"," + size), "name"),
        Arguments.of("name with unicode", vol("\"name\":\"d\u00e9j\u00e0\"," + size), "name"),
        Arguments.of("name of 64 characters", vol("\"name\":\"" + "a".repeat(64) + "\"," + size), "name"),
        Arguments.of("name that is a number", vol("\"name\":12," + size), "name"),
        Arguments.of("missing size", vol(name), "size"),
        Arguments.of("decimal unit GB", vol(name + ",\"size\":\"100GB\""), "size"),
        Arguments.of("fractional size", vol(name + ",\"size\":\"1.5GiB\""), "size"),
        Arguments.of("fractional number", vol(name + ",\"size\":1.5"), "size"),
        Arguments.of("zero size", vol(name + ",\"size\":0"), "size"),
        Arguments.of("negative size", vol(name + ",\"size\":-1073741824"), "size"),
        Arguments.of("size not a sector multiple", vol(name + ",\"size\":1048577"), "size"),
        Arguments.of("size overflowing a long in TiB", vol(name + ",\"size\":\"9999999TiB\""), "size"),
        Arguments.of("size overflowing a long in bytes", vol(name + ",\"size\":99999999999999999999999"), "size"),
        Arguments.of("size as an object", vol(name + ",\"size\":{}"), "size"),
        Arguments.of("size as a boolean", vol(name + ",\"size\":true"), "size"),
        Arguments.of("no legs", vol(name + "," + size + ",\"layout\":{\"legs\":0}"), "layout.legs"),
        Arguments.of("legs as a string", vol(name + "," + size + ",\"layout\":{\"legs\":\"2\"}"), "layout.legs"),
        Arguments.of("four replicas", vol(name + "," + size + ",\"layout\":{\"replicas\":4}"), "layout.replicas"),
        Arguments.of("zero replicas", vol(name + "," + size + ",\"layout\":{\"replicas\":0}"), "layout.replicas"),
        Arguments.of("negative standbys", vol(name + "," + size + ",\"layout\":{\"standbyControllers\":-1}"), "layout.standbyControllers"),
        Arguments.of("huge standbys", vol(name + "," + size + ",\"layout\":{\"standbyControllers\":1e400}"), "layout.standbyControllers"),
        Arguments.of("layout as an array", vol(name + "," + size + ",\"layout\":[2]"), "layout"),
        Arguments.of("unknown layout field", vol(name + "," + size + ",\"layout\":{\"stripes\":2}"), "layout.stripes"),
        Arguments.of("unknown failure domain", vol(name + "," + size + ",\"failureDomain\":\"planet\""), "failureDomain"),
        Arguments.of("unknown top-level field", vol(name + "," + size + ",\"colour\":\"blue\""), "colour"));
  }

  @ParameterizedTest(name = "a create with {0} is refused on field {2}")
  @MethodSource("createErrors")
  void a_bad_create_is_refused_with_its_field_and_creates_nothing(String why, String body, String field) {
    int before = cluster.volumeCount();
    var r = server.post("/api/v1/volumes", body);
    assertEquals(400, r.status(), r.body());
    assertTrue(r.contentType().startsWith("application/problem+json"), r.contentType());
    assertEquals(field, r.json().get("field").asText(), r.body());
    assertEquals("urn:toma:problem:invalid-request", r.json().get("type").asText());
    assertEquals(400, r.json().get("status").asInt());
    assertTrue(r.json().get("detail").asText().length() > 10);
    assertEquals(before, cluster.volumeCount());
  }

  static Stream<Arguments> otherErrors() {
    return Stream.of(
        Arguments.of("attach", "{}", "hostNqn"),
        Arguments.of("attach", "{\"hostNqn\":\"host1\"}", "hostNqn"),
        Arguments.of("attach", "{\"hostNqn\":\"nqn.2014-08.org.nvmexpress:" + "x".repeat(200) + "\"}", "hostNqn"),
        Arguments.of("attach", "{\"hostNqn\":\"nqn.2014-13.org.example:h1\"}", "hostNqn"),
        Arguments.of("attach", "{\"hostNqn\":\"nqn.2014-08.org.example:a/b\"}", "hostNqn"),
        Arguments.of("attach", "{\"hostNqn\":\"nqn.2014-08.org.example:h1\",\"x\":1}", "x"),
        Arguments.of("resize", "{}", "size"),
        Arguments.of("resize", "{\"size\":\"lots\"}", "size"),
        Arguments.of("resize", "{\"size\":\"1GiB\",\"force\":true}", "force"),
        Arguments.of("fault", "{\"kind\":\"meteor\",\"target\":\"node-a\"}", "kind"),
        Arguments.of("fault", "{\"kind\":\"node\"}", "target"),
        Arguments.of("fault", "{\"kind\":\"link\",\"target\":\"node-a\"}", "peer"),
        Arguments.of("fault", "{\"kind\":\"node\",\"target\":\"node-a\",\"peer\":\"node-b\"}", "peer"));
  }

  @ParameterizedTest(name = "a {0} with {1} is refused on field {2}")
  @MethodSource("otherErrors")
  void a_bad_attach_resize_or_fault_is_refused_with_its_field_and_changes_nothing(String call, String body, String field) {
    String path = switch (call) {
      case "attach" -> "/api/v1/volumes/" + volumeId + "/attachments";
      case "resize" -> "/api/v1/volumes/" + volumeId + "/resize";
      default -> "/api/v1/demo/faults";
    };
    var before = server.get("/api/v1/volumes/" + volumeId).json();
    var r = server.post(path, body);
    assertEquals(400, r.status(), r.body());
    assertEquals(field, r.json().get("field").asText(), r.body());
    assertEquals(before, server.get("/api/v1/volumes/" + volumeId).json());
    assertTrue(cluster.faults.isEmpty());
  }

  @org.junit.jupiter.api.Test
  void a_host_nqn_of_223_bytes_is_accepted_and_one_of_224_is_refused() {
    String prefix = "nqn.2014-08.org.example:";
    String ok = prefix + "h".repeat(223 - prefix.length());
    String tooLong = ok + "h";
    assertEquals(200, server.post("/api/v1/volumes/" + volumeId + "/attachments", "{\"hostNqn\":\"" + ok + "\"}").status());
    var r = server.post("/api/v1/volumes/" + volumeId + "/attachments", "{\"hostNqn\":\"" + tooLong + "\"}");
    assertEquals(400, r.status());
    assertTrue(r.json().get("detail").asText().contains("224 bytes"), r.body());
  }
}
