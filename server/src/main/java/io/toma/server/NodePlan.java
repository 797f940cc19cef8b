package io.toma.server;

import com.typesafe.config.Config;
import io.toma.config.TomaSettings;
import java.util.List;

/**
 * Everything needed to start one node: its checked settings, the configuration they came from
 * (the base for Pekko's own settings), and the simulated disks it gets in the demo (none when the
 * node runs on a real machine and discovers its disks).
 */
public record NodePlan(TomaSettings settings, Config config, List<SimulatedDisk> simulatedDisks) {
  public NodePlan {
    simulatedDisks = List.copyOf(simulatedDisks);
  }

  public String nodeId() {
    return settings.node().id();
  }
}
