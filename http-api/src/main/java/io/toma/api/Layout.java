package io.toma.api;

/**
 * How a volume is built: {@code legs} raid1 legs striped together, {@code replicas} logical disks
 * per leg (1..3), and {@code standbyControllers} besides the one active controller.
 */
public record Layout(int legs, int replicas, int standbyControllers) {

  /** What a create without a layout gets: one leg, two replicas, one standby controller. */
  public static final Layout DEFAULT = new Layout(1, 2, 1);
}
