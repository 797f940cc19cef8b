package io.toma.systemtest;

/** Where one node listens: its Pekko cluster port and its HTTP API, on one address. */
record Endpoint(String host, int clusterPort, int httpPort) {
  String clusterHostPort() {
    return host + ":" + clusterPort;
  }

  /** How the health endpoint names this member: {@code pekko://toma@host:port}. */
  String memberAddress(String systemName) {
    return "pekko://" + systemName + "@" + clusterHostPort();
  }
}
