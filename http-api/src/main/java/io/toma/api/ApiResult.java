package io.toma.api;

import java.util.function.Function;

/**
 * What the cluster answered to one API call. Errors a caller can act on are values, not exceptions;
 * {@link ApiRoutes} maps each case to one HTTP status (see docs/api.md).
 */
public sealed interface ApiResult<T> {

  /** The call succeeded. */
  record Ok<T>(T value) implements ApiResult<T> {}

  /** The volume or node named in the call does not exist. → 404 */
  record NotFound<T>(String detail) implements ApiResult<T> {}

  /**
   * The call contradicts the cluster's state: the same name with another spec, or no placement
   * satisfies the layout with the capacity and failure domains there are (the detail carries the
   * placement's refusal). Retrying after the state changes may succeed. → 409
   */
  record Conflict<T>(String detail) implements ApiResult<T> {}

  /** A field of the request is not acceptable, e.g. shrinking a volume. → 400 with the field. */
  record Invalid<T>(String field, String detail) implements ApiResult<T> {}

  /** The cluster cannot answer right now (no quorum, shard region not ready). → 503 */
  record Unavailable<T>(String detail) implements ApiResult<T> {}

  static <T> ApiResult<T> ok(T value) {
    return new Ok<>(value);
  }

  static <T> ApiResult<T> notFound(String detail) {
    return new NotFound<>(detail);
  }

  static <T> ApiResult<T> conflict(String detail) {
    return new Conflict<>(detail);
  }

  static <T> ApiResult<T> invalid(String field, String detail) {
    return new Invalid<>(field, detail);
  }

  static <T> ApiResult<T> unavailable(String detail) {
    return new Unavailable<>(detail);
  }

  /** Transforms the success value and keeps every failure as it is. */
  default <U> ApiResult<U> map(Function<T, U> f) {
    if (this instanceof Ok<T> ok) {
      return new Ok<>(f.apply(ok.value()));
    }
    return castFailure();
  }

  /** Chains a second step that may itself fail. */
  default <U> ApiResult<U> flatMap(Function<T, ApiResult<U>> f) {
    if (this instanceof Ok<T> ok) {
      return f.apply(ok.value());
    }
    return castFailure();
  }

  @SuppressWarnings("unchecked")
  private <U> ApiResult<U> castFailure() {
    // Failures carry no T, so the same instance is valid for any U.
    return (ApiResult<U>) this;
  }
}
