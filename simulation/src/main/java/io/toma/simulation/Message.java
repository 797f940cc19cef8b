package io.toma.simulation;

import io.toma.kernel.DesiredState;

/**
 * What crosses the simulated control network: the manager's orders to node agents and their
 * reports back. The same facts as {@code AgentProtocol}, without actor references.
 */
public sealed interface Message {

  /** The node this message comes from or goes to. */
  String node();

  sealed interface ToNode extends Message {}

  sealed interface ToManager extends Message {}

  record Apply(String node, String volume, long revision, DesiredState desired) implements ToNode {}

  record Remove(String node, String volume, long revision) implements ToNode {}

  record Applied(String node, String volume, long revision) implements ToManager {}

  record Removed(String node, String volume, long revision) implements ToManager {}

  /** A node agent started (again): it wants every desired state it should hold, current or not. */
  record Registered(String node) implements ToManager {}

  record DiskLost(String node, String disk, String reason) implements ToManager {}

  /**
   * dm-raid health of one leg on a controller ({@code health} as dm-raid prints it, one letter a
   * slot), read while the node held {@code revision} of the volume.
   */
  record RaidHealth(String node, String volume, int leg, String health, boolean inSync, int percent,
      long syncedSectors, long totalSectors, long revision) implements ToManager {}
}
