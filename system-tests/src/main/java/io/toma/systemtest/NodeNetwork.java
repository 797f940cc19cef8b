package io.toma.systemtest;

import java.util.List;

/**
 * Where the nodes of a test cluster live: on loopback with a port each, or each in its own network
 * namespace with its own address. Nodes are numbered from 1.
 */
public interface NodeNetwork {
  public Endpoint endpoint(int node);

  /** What goes in front of {@code java ...} to run a node where it belongs (empty on loopback). */
  public List<String> launchPrefix(int node);
}
