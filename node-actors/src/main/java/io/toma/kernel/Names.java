package io.toma.kernel;

/** The naming scheme of everything Toma creates in a kernel (docs/architecture.md). */
public final class Names {
  /** Prefix of every device-mapper device Toma creates. */
  public static final String PREFIX = "toma-";
  /** Prefix of every NQN Toma creates (subsystems and host NQNs). */
  public static final String NQN_PREFIX = "nqn.2026-11.io.toma:";

  private Names() {}
}
