package io.toma.kernel.sim;

/** Turns a device argument of a table or namespace (path, major:minor or symbolic ref) into a device. */
interface DeviceResolver {

  /** The device does not exist (the kernel's dm_get_device / blkdev open fails). */
  final class LookupFailed extends Exception {
    LookupFailed(String device) {
      super("Device lookup failed: " + device);
    }
  }

  DevRef resolve(String reference) throws LookupFailed;
}
