package io.toma.kernel;

import java.util.List;

/**
 * The one narrow interface between Toma and a node's kernel. Two implementations: the Linux
 * backend (configfs, dmsetup, nvme, /sys) and the simulated twin (in memory, carrying data).
 * Calls may block (process execution): actors run them on a dedicated blocking dispatcher.
 */
public interface Kernel {

  /** Read back everything Toma-relevant the kernel holds now. */
  KernelState read() throws KernelException;

  /** Execute one operation; an invalid name or argument is refused before anything is touched. */
  void apply(KernelOp op) throws KernelException;

  /** Block devices that stand for this node's physical disks (path, size, presence). */
  List<BlockDeviceInfo> blockDevices(List<String> devicePaths) throws KernelException;

  record BlockDeviceInfo(String path, long sizeBytes, boolean present) {}
}
