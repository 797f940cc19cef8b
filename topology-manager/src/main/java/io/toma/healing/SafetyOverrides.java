package io.toma.healing;

/**
 * Switches that break a safety rule on purpose. They exist only so the simulation's "the checker
 * must bite" tests can prove that the invariant checkers catch the bug each rule prevents.
 * Production always passes {@link #SAFE}.
 *
 * @param releaseOldExtentBeforeInSync release a lost member's extent as soon as its replacement is
 *     attached, before the controller reported it in sync (the extent may be granted to another
 *     volume while it is still the only copy some reads could come from)
 * @param promoteWithoutFencing request the standby's promotion right after the epoch bump, without
 *     waiting for any disk node to confirm the fence (two controllers may write)
 */
public record SafetyOverrides(boolean releaseOldExtentBeforeInSync, boolean promoteWithoutFencing) {
  public static final SafetyOverrides SAFE = new SafetyOverrides(false, false);

  public boolean isSafe() {
    return !releaseOldExtentBeforeInSync && !promoteWithoutFencing;
  }
}
