package io.toma.config;

import java.util.Arrays;
import java.util.Locale;
import java.util.Optional;

/** What a machine does in a Toma cluster. A machine may hold several roles. */
public enum Role {
  /** Hosts the sharded entities (volumes, disks, controller nodes) and the HTTP API. */
  MANAGER,
  /** Owns NVMe disks, splits them into logical disks and exports them over NVMe-oF. */
  DISK,
  /** Builds legs and stripes over logical disks and exports volumes to hosts. */
  CONTROLLER,
  /** Connects to volumes as an NVMe-oF initiator. */
  HOST;

  /** The spelling used in configuration and as a Pekko cluster role. */
  public String configName() {
    return name().toLowerCase(Locale.ROOT);
  }

  public static Optional<Role> fromConfigName(String name) {
    return Arrays.stream(values()).filter(r -> r.configName().equals(name)).findFirst();
  }
}
