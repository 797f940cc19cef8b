package io.toma.topology;

import io.toma.persistence.CborSerializable;
import java.util.Set;

/**
 * What the manager knows of one machine: its roles, failure domain, the address its nvmet targets
 * listen on, the host NQN it connects with, whether an operator cordoned it, and how many
 * controllers it hosts (placement spreads controllers by that count), and whether the fault router
 * declared it lost (no new placement there until it registers again).
 */
public record NodeFacts(
    String nodeId,
    Set<String> roles,
    String zone,
    String rack,
    String fabricAddress,
    String hostNqn,
    boolean cordoned,
    int hostedControllers,
    boolean lost)
    implements CborSerializable {

  public static final String ROLE_DISK = "disk";
  public static final String ROLE_CONTROLLER = "controller";

  public NodeFacts {
    roles = Set.copyOf(roles);
  }

  /** A node not declared lost. */
  public NodeFacts(String nodeId, Set<String> roles, String zone, String rack, String fabricAddress, String hostNqn,
      boolean cordoned, int hostedControllers) {
    this(nodeId, roles, zone, rack, fabricAddress, hostNqn, cordoned, hostedControllers, false);
  }

  /** Whether new volumes may be placed here: not cordoned by an operator, not declared lost. */
  public boolean placeable() {
    return !cordoned && !lost;
  }

  public boolean canHostControllers() {
    return roles.contains(ROLE_CONTROLLER);
  }

  public NodeFacts withCordoned(boolean value) {
    return new NodeFacts(nodeId, roles, zone, rack, fabricAddress, hostNqn, value, hostedControllers, lost);
  }

  public NodeFacts withHostedControllers(int count) {
    return new NodeFacts(nodeId, roles, zone, rack, fabricAddress, hostNqn, cordoned, count, lost);
  }
}
