package io.toma.server;

/** A node could not start because the outside world refused (port taken, database down). */
final class NodeStartException extends RuntimeException {
  NodeStartException(String message, Throwable cause) {
    super(message, cause);
  }
}
