package io.toma.api;

/** A volume's health as users see it; the JSON spells the names as they are here. */
public enum VolumeState {
  Provisioning,
  Online,
  Degraded,
  Rebuilding,
  Deleting
}
