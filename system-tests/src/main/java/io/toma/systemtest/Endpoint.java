package io.toma.systemtest;

/**
 * Where one node listens: its Pekko cluster port and its HTTP API on one address, and its
 * simulated NVMe-oF targets at its own fabric address (every node its own; the port the same for
 * all, as the wire fabric expects).
 */
public record Endpoint(String host, int clusterPort, int httpPort, String fabricHost, int fabricPort) {
  /** The NVMe-oF port when the test does not choose one. */
  public static final int DEFAULT_FABRIC_PORT = 4420;

  /** Fabric on the node's own address and the default port. */
  public Endpoint(String host, int clusterPort, int httpPort) {
    this(host, clusterPort, httpPort, host, DEFAULT_FABRIC_PORT);
  }

  public String clusterHostPort() {
    return host + ":" + clusterPort;
  }

  /** How the health endpoint names this member: {@code pekko://toma@host:port}. */
  public String memberAddress(String systemName) {
    return "pekko://" + systemName + "@" + clusterHostPort();
  }

  public java.net.InetSocketAddress fabricSocket() {
    return new java.net.InetSocketAddress(fabricHost, fabricPort);
  }
}
