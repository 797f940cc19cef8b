package io.toma.api;

import com.fasterxml.jackson.annotation.JsonInclude;
import java.util.Optional;

/**
 * An RFC 9457 problem document, the body of every error. {@code field} names the offending request
 * field (dotted for nesting, e.g. {@code layout.replicas}) for validation errors only.
 */
@JsonInclude(JsonInclude.Include.NON_ABSENT)
public record Problem(String type, String title, int status, String detail, Optional<String> field) {

  public static Problem of(int status, String slug, String title, String detail) {
    return new Problem("urn:toma:problem:" + slug, title, status, detail, Optional.empty());
  }

  public static Problem invalid(String field, String detail) {
    return new Problem("urn:toma:problem:invalid-request", "Invalid request", 400, detail,
        field.isEmpty() ? Optional.empty() : Optional.of(field));
  }

  /** The problem for a failed port result. */
  public static Problem from(ApiResult<?> failure) {
    if (failure instanceof ApiResult.NotFound<?> n) {
      return of(404, "not-found", "Not found", n.detail());
    }
    if (failure instanceof ApiResult.Conflict<?> c) {
      return of(409, "conflict", "Conflict", c.detail());
    }
    if (failure instanceof ApiResult.Invalid<?> i) {
      return invalid(i.field(), i.detail());
    }
    if (failure instanceof ApiResult.Unavailable<?> u) {
      return of(503, "unavailable", "Service unavailable", u.detail());
    }
    throw new IllegalArgumentException("not a failure: " + failure);
  }
}
