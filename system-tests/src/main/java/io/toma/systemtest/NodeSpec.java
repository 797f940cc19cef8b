package io.toma.systemtest;

import java.util.List;

/**
 * One node of a test cluster as an operator would describe it.
 *
 * @param index 1-based position: names its endpoint in the {@link NodeNetwork}
 * @param roles Toma roles ({@code manager}, {@code disk}, {@code controller}); managers serve HTTP
 */
public record NodeSpec(int index, String id, List<String> roles, String zone, String rack) {
  public NodeSpec {
    roles = List.copyOf(roles);
  }

  public boolean isManager() {
    return roles.contains("manager");
  }
}
