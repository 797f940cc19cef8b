package io.toma.api;

import com.fasterxml.jackson.databind.JsonNode;
import java.util.Iterator;
import java.util.Optional;
import java.util.Set;

/**
 * Turns request bodies (already parsed as JSON trees) into validated request records. It checks
 * everything (unknown fields by name, types, ranges, formats) before any port is called, so a
 * rejected request changes nothing. Fields are named with dots for nesting: {@code layout.legs}.
 */
public final class RequestParser {

  public static final int MAX_STANDBY_CONTROLLERS = 8;
  public static final int MAX_LEGS = 64;

  private RequestParser() {}

  /** Thrown inside this class only, to leave a nested walk at the first bad field. */
  private static final class Reject extends RuntimeException {
    final String field;

    Reject(String field, String detail) {
      super(detail, null, false, false);
      this.field = field;
    }
  }

  public static ApiResult<CreateVolumeRequest> createVolume(JsonNode body) {
    return guarded(() -> {
      object("", body, Set.of("name", "size", "layout", "failureDomain"));
      String name = unwrap(Identifiers.volumeName("name", requiredText(body, "name", "name")));
      long size = size(body, "size");
      Layout layout = body.has("layout") && !body.get("layout").isNull() ? layout(body.get("layout")) : Layout.DEFAULT;
      FailureDomain domain = FailureDomain.NODE;
      if (body.has("failureDomain") && !body.get("failureDomain").isNull()) {
        String text = text(body.get("failureDomain"), "failureDomain");
        domain = FailureDomain.parse(text).orElseThrow(
            () -> new Reject("failureDomain", "failureDomain must be one of node, rack, zone; got '" + Sizes.abbreviate(text) + "'"));
      }
      return new CreateVolumeRequest(name, size, layout, domain);
    });
  }

  public static ApiResult<AttachRequest> attach(JsonNode body) {
    return guarded(() -> {
      object("", body, Set.of("hostNqn"));
      return new AttachRequest(unwrap(Identifiers.hostNqn("hostNqn", requiredText(body, "hostNqn", "hostNqn"))));
    });
  }

  public static ApiResult<ResizeRequest> resize(JsonNode body) {
    return guarded(() -> {
      object("", body, Set.of("size"));
      return new ResizeRequest(size(body, "size"));
    });
  }

  public static ApiResult<FaultRequest> fault(JsonNode body) {
    return guarded(() -> {
      object("", body, Set.of("kind", "target", "peer"));
      String kindText = requiredText(body, "kind", "kind");
      FaultKind kind = FaultKind.parse(kindText).orElseThrow(
          () -> new Reject("kind", "kind must be one of disk, link, node, rack; got '" + Sizes.abbreviate(kindText) + "'"));
      String target = unwrap(Identifiers.id("target", requiredText(body, "target", "target")));
      Optional<String> peer = Optional.empty();
      if (body.has("peer") && !body.get("peer").isNull()) {
        peer = Optional.of(unwrap(Identifiers.id("peer", text(body.get("peer"), "peer"))));
      }
      if (kind == FaultKind.LINK && peer.isEmpty()) {
        throw new Reject("peer", "a link fault needs peer: the node at the other end of the link");
      }
      if (kind != FaultKind.LINK && peer.isPresent()) {
        throw new Reject("peer", "peer is only for link faults");
      }
      return new FaultRequest(kind, target, peer);
    });
  }

  private static Layout layout(JsonNode node) {
    object("layout", node, Set.of("legs", "replicas", "standbyControllers"));
    int legs = intIn(node, "legs", "layout.legs", Layout.DEFAULT.legs(), 1, MAX_LEGS);
    int replicas = intIn(node, "replicas", "layout.replicas", Layout.DEFAULT.replicas(), 1, 3);
    int standby = intIn(node, "standbyControllers", "layout.standbyControllers",
        Layout.DEFAULT.standbyControllers(), 0, MAX_STANDBY_CONTROLLERS);
    return new Layout(legs, replicas, standby);
  }

  private static long size(JsonNode body, String field) {
    JsonNode node = body.get(field);
    if (node == null || node.isNull()) {
      throw new Reject(field, field + " is required, e.g. \"100GiB\" or a number of bytes");
    }
    if (node.isTextual()) {
      return unwrap(Sizes.parse(field, node.textValue()));
    }
    if (node.isIntegralNumber()) {
      if (!node.canConvertToLong()) {
        throw new Reject(field, field + " is too large (the largest is " + Long.MAX_VALUE + " bytes)");
      }
      return unwrap(Sizes.check(field, node.longValue()));
    }
    if (node.isNumber()) {
      throw new Reject(field, field + " must be a whole number of bytes or a string such as \"100GiB\", got " + Sizes.abbreviate(node.asText()));
    }
    throw new Reject(field, field + " must be a string such as \"100GiB\" or a number of bytes, got " + kind(node));
  }

  private static int intIn(JsonNode parent, String key, String field, int dflt, int min, int max) {
    JsonNode node = parent.get(key);
    if (node == null || node.isNull()) {
      return dflt;
    }
    if (!node.isIntegralNumber()) {
      throw new Reject(field, field + " must be a whole number from " + min + " to " + max + ", got " + kind(node));
    }
    if (!node.canConvertToInt() || node.intValue() < min || node.intValue() > max) {
      throw new Reject(field, field + " must be from " + min + " to " + max + ", got " + Sizes.abbreviate(node.asText()));
    }
    return node.intValue();
  }

  private static void object(String path, JsonNode node, Set<String> allowed) {
    String where = path.isEmpty() ? "the request body" : path;
    if (node == null || !node.isObject()) {
      throw new Reject(path, where + " must be a JSON object, got " + (node == null ? "nothing" : kind(node)));
    }
    for (Iterator<String> it = node.fieldNames(); it.hasNext(); ) {
      String name = it.next();
      if (!allowed.contains(name)) {
        String field = path.isEmpty() ? name : path + "." + name;
        throw new Reject(field, "unknown field '" + Sizes.abbreviate(field) + "'; " + where + " accepts " + String.join(", ", allowed.stream().sorted().toList()));
      }
    }
  }

  private static String requiredText(JsonNode parent, String key, String field) {
    JsonNode node = parent.get(key);
    if (node == null || node.isNull()) {
      throw new Reject(field, field + " is required");
    }
    return text(node, field);
  }

  private static String text(JsonNode node, String field) {
    if (!node.isTextual()) {
      throw new Reject(field, field + " must be a string, got " + kind(node));
    }
    return node.textValue();
  }

  private static String kind(JsonNode node) {
    return switch (node.getNodeType()) {
      case ARRAY -> "an array";
      case OBJECT, POJO -> "an object";
      case BOOLEAN -> "a boolean";
      case NUMBER -> "a number";
      case STRING -> "a string";
      case NULL, MISSING -> "null";
      case BINARY -> "binary data";
    };
  }

  private static <T> T unwrap(ApiResult<T> result) {
    if (result instanceof ApiResult.Ok<T> ok) {
      return ok.value();
    }
    if (result instanceof ApiResult.Invalid<T> bad) {
      throw new Reject(bad.field(), bad.detail());
    }
    throw new IllegalStateException("validation returned " + result);
  }

  private static <T> ApiResult<T> guarded(java.util.function.Supplier<T> parse) {
    try {
      return ApiResult.ok(parse.get());
    } catch (Reject r) {
      return ApiResult.invalid(r.field, r.getMessage());
    }
  }
}
