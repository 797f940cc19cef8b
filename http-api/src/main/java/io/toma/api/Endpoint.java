package io.toma.api;

import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * One route of the API: method, path template ({@code {name}} segments match one path segment),
 * who may call it, and whether it takes a JSON body. {@link ApiRoutes#ENDPOINTS} lists them all.
 */
public record Endpoint(String operationId, String method, String template, Access access, Kind kind) {

  /** Who may call it: anyone, any valid token, or only a read-write token. */
  public enum Access {
    OPEN,
    READ,
    WRITE
  }

  /** JSON_BODY: the request carries a JSON object; DEMO: served only with demo faults; EXTERNAL: served by another route (health). */
  public enum Kind {
    PLAIN,
    JSON_BODY,
    DEMO,
    DEMO_JSON_BODY,
    EXTERNAL
  }

  public List<String> segments() {
    return splitPath(template);
  }

  public boolean takesJsonBody() {
    return kind == Kind.JSON_BODY || kind == Kind.DEMO_JSON_BODY;
  }

  public boolean demoOnly() {
    return kind == Kind.DEMO || kind == Kind.DEMO_JSON_BODY;
  }

  /** The path parameters when {@code path} fits the template. */
  public Optional<Map<String, String>> match(List<String> path) {
    List<String> mine = segments();
    if (mine.size() != path.size()) {
      return Optional.empty();
    }
    Map<String, String> params = new java.util.LinkedHashMap<>();
    for (int i = 0; i < mine.size(); i++) {
      String t = mine.get(i);
      String p = path.get(i);
      if (t.startsWith("{") && t.endsWith("}")) {
        if (p.isEmpty()) {
          return Optional.empty();
        }
        params.put(t.substring(1, t.length() - 1), p);
      } else if (!t.equals(p)) {
        return Optional.empty();
      }
    }
    return Optional.of(Map.copyOf(params));
  }

  static List<String> splitPath(String path) {
    List<String> parts = new java.util.ArrayList<>(List.of(path.split("/", -1)));
    if (!parts.isEmpty() && parts.get(0).isEmpty()) {
      parts.remove(0);
    }
    if (!parts.isEmpty() && parts.get(parts.size() - 1).isEmpty()) {
      parts.remove(parts.size() - 1);
    }
    return List.copyOf(parts);
  }
}
