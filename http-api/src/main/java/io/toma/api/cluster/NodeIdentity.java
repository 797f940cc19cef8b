package io.toma.api.cluster;

import java.util.Collection;
import java.util.Optional;

/**
 * How a cluster member says which Toma node it is: a {@code node:<id>} cluster role, added by the
 * server beside the Toma roles and the {@code zone:}/{@code rack:} labels. Gossip carries roles, so
 * any manager can tell a node's membership status from its id without asking it.
 */
public final class NodeIdentity {
  public static final String ROLE_PREFIX = "node:";

  private NodeIdentity() {}

  public static String role(String nodeId) {
    return ROLE_PREFIX + nodeId;
  }

  /** The node id among a member's roles, if the member carries one. */
  public static Optional<String> nodeId(Collection<String> roles) {
    return roles.stream()
        .filter(r -> r.startsWith(ROLE_PREFIX))
        .map(r -> r.substring(ROLE_PREFIX.length()))
        .findFirst();
  }
}
