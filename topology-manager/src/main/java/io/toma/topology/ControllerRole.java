package io.toma.topology;

/** An active controller exports the volume ANA optimized; a standby holds the path, inaccessible. */
public enum ControllerRole {
  ACTIVE,
  STANDBY
}
