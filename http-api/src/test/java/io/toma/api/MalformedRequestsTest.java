package io.toma.api;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.function.Supplier;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;

/**
 * A seeded storm of malformed requests: bad JSON, wrong types, huge numbers, unicode, missing and
 * unknown fields, wrong methods and content types, junk paths. None may earn a 5xx, every error
 * must be a problem document, and no volume may appear or change.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class MalformedRequestsTest {

  static final long SEED = Long.getLong("toma.fuzz.seed", 20261121L);
  static final int REQUESTS = 1200;

  InMemoryCluster cluster;
  ApiTestServer server;
  String volumeId;

  @BeforeAll
  void start() {
    cluster = new InMemoryCluster();
    server = ApiTestServer.start(cluster, true, ApiAuth.disabled());
    volumeId = server.post("/api/v1/volumes", "{\"name\":\"anchor\",\"size\":\"1GiB\"}").json().get("id").asText();
  }

  @AfterAll
  void stop() {
    server.close();
  }

  record Malformed(String kind, String method, String path, String body, String contentType) {}

  @Test
  void a_thousand_malformed_requests_earn_no_5xx_and_change_no_volume() {
    Random random = new Random(SEED);
    var before = server.get("/api/v1/volumes?limit=1000").json();
    int count = cluster.volumeCount();
    List<String> failures = new ArrayList<>();
    for (int i = 0; i < REQUESTS; i++) {
      Malformed m = generate(random);
      var r = server.send(m.method(), m.path(), m.body(), m.contentType(), null);
      boolean problem = r.contentType().startsWith("application/problem+json");
      if (r.status() >= 500 || r.status() < 400 || !problem) {
        String line = "#" + i + " " + m + " → " + r.status() + " " + r.contentType() + " " + r.body();
        failures.add(line.length() > 400 ? line.substring(0, 400) + "..." : line);
      }
    }
    assertTrue(failures.isEmpty(), "seed " + SEED + " (replay with -Dtoma.fuzz.seed=" + SEED + "): "
        + failures.size() + " bad answers, first: " + failures.subList(0, Math.min(5, failures.size())));
    assertEquals(count, cluster.volumeCount());
    assertEquals(before, server.get("/api/v1/volumes?limit=1000").json());
  }

  Malformed generate(Random r) {
    String volumes = "/api/v1/volumes";
    String one = volumes + "/" + volumeId;
    return switch (r.nextInt(11)) {
      case 10 -> new Malformed("bad query", "GET", pick(r, volumes + "?limit=", volumes + "?offset=", "/api/v1/nodes?x=",
          one + "?verbose=") + enc(pick(r, "-1", "abc", "1.5", "99999999999999999999", "\u00bd", "")), null, null);
      case 0 -> new Malformed("truncated JSON", "POST", volumes, truncate(r, validCreate(r)), "application/json");
      case 1 -> new Malformed("wrong type", "POST", volumes, wrongType(r), "application/json");
      case 2 -> new Malformed("huge number", "POST", pick(r, volumes, one + "/resize"), hugeNumber(r), "application/json");
      case 3 -> new Malformed("unicode", "POST", volumes, unicodeName(r), "application/json");
      case 4 -> r.nextBoolean()
          ? new Malformed("missing field", "POST", volumes,
              pick(r, "{}", "{\"name\":\"m" + r.nextInt(1000) + "\"}", "{\"size\":\"1GiB\"}", "{\"layout\":{}}", "null", "[]", ""),
              "application/json")
          : new Malformed("missing field", "POST", pick(r, one + "/resize", one + "/attachments", "/api/v1/demo/faults"),
              pick(r, "{}", "{\"name\":\"m\"}", "{\"peer\":\"node-a\"}", "null", "[]", ""), "application/json");
      case 5 -> new Malformed("unknown field", "POST", pick(r, volumes, one + "/resize", one + "/attachments"),
          unknownField(r), "application/json");
      case 6 -> new Malformed("junk bytes", "POST", pick(r, volumes, one + "/attachments", "/api/v1/demo/faults"),
          junk(r), pick(r, "application/json", "text/plain", "application/octet-stream"));
      case 7 -> new Malformed("wrong method", pick(r, "PUT", "PATCH", "DELETE", "POST"), pick(r, volumes, "/api/v1/nodes",
          "/api/v1/cluster", "/api/v1/events", "/api/v1/nodes/node-a/plan", "/api/v1/demo/heal".replace("heal", "faults") + "x"),
          null, null);
      case 8 -> new Malformed("junk path", pick(r, "GET", "POST", "DELETE"), junkPath(r), null, null);
      default -> new Malformed("wrong content type", "POST", pick(r, volumes, one + "/resize"),
          "{\"name\":\"ct" + r.nextInt(1000) + "\",\"size\":\"1GiB\"}", pick(r, "text/plain", "application/xml", "multipart/form-data; boundary=x"));
    };
  }

  static String validCreate(Random r) {
    return "{\"name\":\"fz" + r.nextInt(100000) + "\",\"size\":\"" + (1 + r.nextInt(64)) + "GiB\",\"layout\":{\"legs\":"
        + (1 + r.nextInt(3)) + ",\"replicas\":" + (1 + r.nextInt(3)) + "},\"failureDomain\":\"node\"}";
  }

  static String truncate(Random r, String json) {
    return json.substring(0, 1 + r.nextInt(json.length() - 2));
  }

  static String wrongType(Random r) {
    String name = "\"name\":\"wt" + r.nextInt(100000) + "\"";
    String size = "\"size\":\"1GiB\"";
    String[] bad = {"true", "[]", "{}", "1.5", "\"x\"", "[1,2]", "-7", "1e3"};
    String value = bad[r.nextInt(bad.length)];
    return switch (r.nextInt(5)) {
      case 0 -> "{\"name\":" + pick(r, "true", "[]", "{}", "1.5", "7") + "," + size + "}";
      case 1 -> "{" + name + ",\"size\":" + pick(r, "true", "[]", "{}", "1.5", "\"x\"", "-7") + "}";
      case 2 -> "{" + name + "," + size + ",\"layout\":" + pick(r, "true", "[]", "\"big\"", "3") + "}";
      case 3 -> "{" + name + "," + size + ",\"layout\":{\"" + pick(r, "legs", "replicas", "standbyControllers") + "\":"
          + pick(r, "true", "[]", "{}", "1.5", "\"2\"", "-1", "99") + "}}";
      default -> "{" + name + "," + size + ",\"failureDomain\":" + ("\"node\"".equals(value) ? "1" : value) + "}";
    };
  }

  static String hugeNumber(Random r) {
    StringBuilder digits = new StringBuilder("9");
    int n = 19 + r.nextInt(400);
    for (int i = 0; i < n; i++) {
      digits.append((char) ('0' + r.nextInt(10)));
    }
    String huge = pick(r, digits.toString(), "-" + digits, "1e309", "-1e309", digits + ".5", "1E" + digits);
    return pick(r, "{\"name\":\"hn" + r.nextInt(1000) + "\",\"size\":" + huge + "}",
        "{\"size\":" + huge + "}",
        "{\"name\":\"hn\",\"size\":\"" + digits + "TiB\"}",
        "{\"name\":\"hn\",\"size\":\"1GiB\",\"layout\":{\"legs\":" + huge + "}}");
  }

  static String unicodeName(Random r) {
    StringBuilder s = new StringBuilder();
    int n = 1 + r.nextInt(12);
    String[] pool = {"\u00e9", "\u4e2d", "\ud83d\udcbe", "\u202e", "\u0301", "\\u0000", "\\ud800", "\u0430", "\u00df", "\ufeff", "\t", "\\n"};
    s.append(pick(r, "", "db"));
    for (int i = 0; i < n; i++) {
      s.append(pool[r.nextInt(pool.length)]);
    }
    return pick(r, "{\"name\":\"" + s + "\",\"size\":\"1GiB\"}",
        "{\"name\":\"u" + r.nextInt(1000) + "\",\"size\":\"1" + s + "GiB\"}",
        "{\"name\":\"u" + r.nextInt(1000) + "\",\"size\":\"1GiB\",\"failureDomain\":\"" + s + "\"}",
        "{\"" + s + "\":1}");
  }

  static String unknownField(Random r) {
    String key = pick(r, "colour", "Name", "SIZE", "snapshot", "layout2", "", "__proto__", "size ");
    return pick(r, "{\"name\":\"uf" + r.nextInt(1000) + "\",\"size\":\"1GiB\",\"" + key + "\":1}",
        "{\"size\":\"9GiB\",\"" + key + "\":true}",
        "{\"hostNqn\":\"nqn.2014-08.org.example:h1\",\"" + key + "\":null}",
        "{\"name\":\"uf" + r.nextInt(1000) + "\",\"size\":\"1GiB\",\"layout\":{\"legs\":1,\"" + key + "\":2}}");
  }

  static String junk(Random r) {
    int n = r.nextInt(200);
    StringBuilder s = new StringBuilder();
    for (int i = 0; i < n; i++) {
      s.append((char) (r.nextInt(3) == 0 ? r.nextInt(0x3000) : 32 + r.nextInt(95)));
    }
    return pick(r, s.toString(), "[".repeat(1 + r.nextInt(2000)), "{\"a\":".repeat(1 + r.nextInt(2000)), "\"" + s + "\"",
        "{\"name\":\"x\"} {\"name\":\"y\"}");
  }

  String junkPath(Random r) {
    Supplier<String> seg = () -> pick(r, "v\u00f6l", "...", "%", "\ud83d\udcbe", "a b", "nqn:x", "" + r.nextLong(), "x".repeat(300));
    String s = enc(seg.get());
    return pick(r, "/api/v1/volumes/" + s + "/" + enc(seg.get()), "/api/v2/volumes", "/api/v1/" + s, "/" + s,
        "/api/v1/volumes/" + enc("vol-" + r.nextInt(1000000) + "x") + "/resize", "/api/v1/volumes/" + volumeId + "/attachments/" + s,
        "/api/v1/nodes/" + s + "/" + pick(r, "cordon", "drain", "plan", "reboot"));
  }

  static String enc(String segment) {
    return URLEncoder.encode(segment, StandardCharsets.UTF_8).replace("+", "%20");
  }

  @SafeVarargs
  static <T> T pick(Random r, T... options) {
    return options[r.nextInt(options.length)];
  }
}
