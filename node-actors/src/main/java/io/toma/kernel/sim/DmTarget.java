package io.toma.kernel.sim;

import java.util.List;
import java.util.OptionalLong;

/**
 * One line of a live device-mapper table: I/O offsets are relative to the line's start. Built by
 * {@link DmTableParser}, which checks arguments the way the kernel's target constructors do.
 */
sealed interface DmTarget permits LinearTarget, StripedTarget, ErrorTarget, Raid1Target {

  String type();

  long lengthSectors();

  default long lengthBytes() {
    return lengthSectors() * 512;
  }

  /** Arguments as `dmsetup table` prints them (devices as major:minor). */
  String tableArgs();

  /** What `dmsetup status` prints after "start length type"; may be empty. */
  String statusArgs();

  /** Devices this line holds open (a held device cannot be removed). */
  List<SimBlockDevice> lowerDevices();

  IoResult read(long offset, int length);

  IoResult write(long offset, byte[] data);

  long nextData(long from);

  /** The table became live (at resume). */
  default void activate(long nowNanos) {}

  /** A resume without a new table (dm-raid takes it to re-add members that are reachable again). */
  default void resumedInPlace(long nowNanos) {}

  /** The table was swapped out or its device removed. */
  default void deactivate() {}

  default OptionalLong nextDeadlineNanos() {
    return OptionalLong.empty();
  }

  /** Time passed; {@code suspended} devices do no background work (resync pauses). */
  default void onTime(long nowNanos, boolean suspended) {}
}
