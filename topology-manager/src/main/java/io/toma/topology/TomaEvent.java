package io.toma.topology;

import io.toma.persistence.CborSerializable;

/**
 * One thing an operator should see happen: kind {@code volume-state}, {@code fault-detected} or
 * {@code repair-step}; subject the volume, node or disk id it is about.
 */
public record TomaEvent(String kind, String subject, String message, long timestampMillis)
    implements CborSerializable {

  public static final String VOLUME_STATE = "volume-state";
  public static final String FAULT_DETECTED = "fault-detected";
  public static final String REPAIR_STEP = "repair-step";
}
