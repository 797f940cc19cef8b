package io.toma.api;

/**
 * One event on the stream. {@code type} is the SSE event name; {@code subject} the volume or node
 * it is about; {@code message} a sentence for an operator.
 */
public record ApiEvent(Type type, String subject, String message, long timestampMillis) {

  public enum Type {
    VOLUME_STATE("volume-state"),
    FAULT_DETECTED("fault-detected"),
    REPAIR_STEP("repair-step");

    private final String wireName;

    Type(String wireName) {
      this.wireName = wireName;
    }

    @com.fasterxml.jackson.annotation.JsonValue
    public String wireName() {
      return wireName;
    }
  }
}
