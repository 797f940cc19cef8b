package io.toma.simulation;

/** One broken invariant: which, at which step and simulated time, and what was seen. */
public record Violation(Invariant invariant, long step, long atMillis, String detail) {

  public enum Invariant {
    /** An acknowledged write was lost or read back wrong. */
    ACKNOWLEDGED_WRITE_LOST,
    /** Two unfenced controllers accepted writes for one volume. */
    TWO_WRITERS,
    /** A volume did not return to Online within the bound once faults stopped. */
    NOT_ONLINE_IN_TIME,
    /** A Toma kernel object no desired state explains remained after convergence. */
    ORPHANED_KERNEL_OBJECT,
    /** An extent is owned twice (allocators, placements and the kernels' slices disagree). */
    EXTENT_OWNED_TWICE
  }

  @Override
  public String toString() {
    return invariant + " at step " + step + " (" + atMillis + " ms): " + detail;
  }
}
