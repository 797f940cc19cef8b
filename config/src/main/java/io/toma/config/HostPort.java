package io.toma.config;

import java.util.Optional;

/** A host and a TCP port, as written in configuration: {@code host:port}. */
public record HostPort(String host, int port) {

  /** Parses {@code host:port} (port 0..65535); empty when the text is not of that shape. */
  public static Optional<HostPort> parse(String text) {
    int colon = text.lastIndexOf(':');
    if (colon <= 0 || colon == text.length() - 1) {
      return Optional.empty();
    }
    String host = text.substring(0, colon).trim();
    try {
      int port = Integer.parseInt(text.substring(colon + 1).trim());
      if (host.isEmpty() || port < 0 || port > 65535) {
        return Optional.empty();
      }
      return Optional.of(new HostPort(host, port));
    } catch (NumberFormatException e) {
      return Optional.empty();
    }
  }

  @Override
  public String toString() {
    return host + ":" + port;
  }
}
