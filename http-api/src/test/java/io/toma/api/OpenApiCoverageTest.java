package io.toma.api;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

/**
 * The OpenAPI document and the route table agree: every route is documented and every documented
 * route exists. The YAML is read line by line (no YAML parser is pinned): path keys sit two spaces
 * in under {@code paths:}, their operations four spaces in.
 */
class OpenApiCoverageTest {

  private static final Pattern PATH = Pattern.compile("^  (/\\S*):\\s*$");
  private static final Pattern OPERATION = Pattern.compile("^    (get|put|post|delete|patch|head|options):\\s*$");
  private static final Pattern OPERATION_ID = Pattern.compile("^      operationId: (\\S+)\\s*$");

  static String document() throws IOException {
    try (InputStream in = OpenApiCoverageTest.class.getResourceAsStream("/openapi.yaml")) {
      return new String(in.readAllBytes(), StandardCharsets.UTF_8);
    }
  }

  /** "METHOD path operationId" for every operation the document lists. */
  static Set<String> documented(String yaml) {
    Set<String> ops = new TreeSet<>();
    boolean inPaths = false;
    String path = null;
    String method = null;
    for (String line : yaml.split("\n")) {
      if (!line.startsWith(" ") && !line.isBlank()) {
        inPaths = line.startsWith("paths:");
        continue;
      }
      if (!inPaths) {
        continue;
      }
      Matcher p = PATH.matcher(line);
      Matcher o = OPERATION.matcher(line);
      Matcher id = OPERATION_ID.matcher(line);
      if (p.matches()) {
        path = p.group(1);
      } else if (o.matches()) {
        method = o.group(1).toUpperCase();
      } else if (id.matches() && method != null) {
        ops.add(method + " " + path + " " + id.group(1));
        method = null;
      }
    }
    return ops;
  }

  @Test
  void every_route_is_documented_and_every_documented_route_exists() throws IOException {
    Set<String> routes = new TreeSet<>();
    for (Endpoint e : ApiRoutes.ENDPOINTS) {
      routes.add(e.method() + " " + e.template() + " " + e.operationId());
    }
    Set<String> documented = documented(document());
    Set<String> undocumented = new TreeSet<>(routes);
    undocumented.removeAll(documented);
    Set<String> phantom = new TreeSet<>(documented);
    phantom.removeAll(routes);
    assertTrue(undocumented.isEmpty(), "routes missing from openapi.yaml: " + undocumented);
    assertTrue(phantom.isEmpty(), "documented routes the server does not have: " + phantom);
    assertEquals(ApiRoutes.ENDPOINTS.size(), documented.size());
  }

  @Test
  void the_line_reader_sees_an_operation_that_is_added_or_removed() {
    String yaml = "openapi: 3.0.3\npaths:\n  /a:\n    get:\n      operationId: a\n    post:\n      operationId: b\n"
        + "components:\n  schemas:\n    /notapath:\n";
    assertEquals(Set.of("GET /a a", "POST /a b"), documented(yaml));
  }

  @Test
  void every_endpoint_has_a_unique_operation_id() {
    List<String> ids = ApiRoutes.ENDPOINTS.stream().map(Endpoint::operationId).toList();
    assertEquals(ids.size(), Set.copyOf(ids).size());
  }
}
