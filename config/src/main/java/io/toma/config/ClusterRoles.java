package io.toma.config;

import java.util.Collection;
import java.util.Optional;

/**
 * Failure-domain labels travel as Pekko cluster roles ({@code zone:z1}, {@code rack:r2}), so every
 * member learns every other member's zone and rack from gossip alone.
 */
public final class ClusterRoles {
  public static final String ZONE_PREFIX = "zone:";
  public static final String RACK_PREFIX = "rack:";

  private ClusterRoles() {}

  public static Optional<String> zone(Collection<String> roles) {
    return label(roles, ZONE_PREFIX);
  }

  public static Optional<String> rack(Collection<String> roles) {
    return label(roles, RACK_PREFIX);
  }

  private static Optional<String> label(Collection<String> roles, String prefix) {
    return roles.stream()
        .filter(r -> r.startsWith(prefix))
        .map(r -> r.substring(prefix.length()))
        .findFirst();
  }
}
