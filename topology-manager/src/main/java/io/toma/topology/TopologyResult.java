package io.toma.topology;

/**
 * What every facade call answers: a value, or why not. {@code T} is the view the call returns on
 * success. Local to the caller's JVM (entity replies cross the cluster as their own records).
 */
public sealed interface TopologyResult<T> {

  record Ok<T>(T value) implements TopologyResult<T> {}

  record NotFound<T>(String what) implements TopologyResult<T> {}

  /** The request contradicts what exists (a volume of that name with another spec, a deleting volume). */
  record Conflict<T>(String message) implements TopologyResult<T> {}

  record Invalid<T>(String field, String message) implements TopologyResult<T> {}

  /** No placement satisfies the constraints; the message says which one failed and what was found. */
  record PlacementFailed<T>(String message) implements TopologyResult<T> {}

  /** Recast an error to another value type (errors carry no value). */
  @SuppressWarnings("unchecked")
  default <U> TopologyResult<U> castError() {
    if (this instanceof Ok<T>) {
      throw new IllegalStateException("Ok carries a value and cannot be recast");
    }
    return (TopologyResult<U>) this;
  }
}
