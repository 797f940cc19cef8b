package io.toma.kernel.sim;

import io.toma.kernel.Kernel;
import io.toma.kernel.KernelException;
import io.toma.kernel.KernelOp;
import io.toma.kernel.KernelState;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * The simulated kernel of one node, behind the same {@link Kernel} interface as the Linux
 * backend. {@link #read()} answers what the Linux backend reads back: dm tables with devices as
 * major:minor (253:N for dm, 259:N for NVMe heads, 251:N for the node's disks), `dmsetup status`
 * lines in the kernel's format, nvmet's configfs tree (ANA group 1 always present, optimized),
 * host controllers {@code nvmeN} with their namespaces' head devices {@code /dev/nvme<S>n<nsid>}.
 *
 * <p>Symbolic device references ({@code @disk:}, {@code @dm:}, {@code @ns:}), plain paths and
 * major:minor are all accepted where the kernel takes a device. An operation either applies
 * whole or fails with the kernel's words and changes nothing. While the node is crashed every
 * call throws.
 */
public final class SimKernel implements Kernel {
  private final SimNode node;

  SimKernel(SimNode node) {
    this.node = node;
  }

  @Override
  public KernelState read() throws KernelException {
    synchronized (node.cluster().lock()) {
      return live().read();
    }
  }

  @Override
  public void apply(KernelOp op) throws KernelException {
    synchronized (node.cluster().lock()) {
      KernelTwin twin = live();
      OpSanity.check(op);
      try {
        twin.apply(op);
      } finally {
        node.cluster().afterChange();
      }
    }
  }

  @Override
  public List<BlockDeviceInfo> blockDevices(List<String> devicePaths) throws KernelException {
    synchronized (node.cluster().lock()) {
      return live().blockDevices(devicePaths);
    }
  }

  /** Reads a block device of this node directly (a path, major:minor or symbolic reference). */
  public IoResult readDevice(String device, long offset, int length) {
    synchronized (node.cluster().lock()) {
      Optional<SimBlockDevice> target = node.isUp() ? node.twin().device(device) : Optional.empty();
      return target.map(d -> d.read(offset, length))
          .orElseGet(() -> new IoResult.Error("no such device on " + node.id() + ": " + device));
    }
  }

  /** Writes a block device of this node directly. */
  public IoResult writeDevice(String device, long offset, byte[] data) {
    synchronized (node.cluster().lock()) {
      Optional<SimBlockDevice> target = node.isUp() ? node.twin().device(device) : Optional.empty();
      return target.map(d -> d.write(offset, data))
          .orElseGet(() -> new IoResult.Error("no such device on " + node.id() + ": " + device));
    }
  }

  /** For each host-side subsystem NQN, the controller its I/O goes to now (like nvme list-subsys). */
  public Map<String, String> activePaths() throws KernelException {
    synchronized (node.cluster().lock()) {
      return live().host().activePaths();
    }
  }

  private KernelTwin live() throws KernelException {
    if (!node.isUp()) {
      throw new KernelException("kernel of node " + node.id() + " does not answer: node is down");
    }
    return node.twin();
  }
}
