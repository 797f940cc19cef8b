package io.toma.topology;

/** Volume states visible to callers; every state but ONLINE comes with a reason. */
public enum VolumeState {
  PROVISIONING("Provisioning"),
  ONLINE("Online"),
  DEGRADED("Degraded"),
  REBUILDING("Rebuilding"),
  DELETING("Deleting");

  private final String display;

  VolumeState(String display) {
    this.display = display;
  }

  /** The word the API shows. */
  public String display() {
    return display;
  }
}
