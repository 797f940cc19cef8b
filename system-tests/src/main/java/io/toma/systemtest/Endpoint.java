package io.toma.systemtest;

/** Where one node listens: its Pekko cluster port and its HTTP API, on one address. */
public record Endpoint(String host, int clusterPort, int httpPort) {
  public String clusterHostPort() {
    return host + ":" + clusterPort;
  }

  /** How the health endpoint names this member: {@code pekko://toma@host:port}. */
  public String memberAddress(String systemName) {
    return "pekko://" + systemName + "@" + clusterHostPort();
  }
}
