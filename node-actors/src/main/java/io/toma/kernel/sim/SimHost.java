package io.toma.kernel.sim;

import io.toma.kernel.DesiredState.ConnectTimeouts;
import io.toma.kernel.DesiredState.FabricConnection;
import io.toma.kernel.KernelException;
import io.toma.kernel.KernelOp;
import java.util.Optional;

/**
 * A simulated NVMe-oF host (initiator) with native multipath: it connects to every controller
 * of a volume (same subsystem NQN on several nodes' ports) and its I/O goes to the path whose
 * ANA state is optimized, fails over when ANA changes, and answers {@link IoResult.Retry} while
 * no path is usable but one may come back (during {@code change}, or a reconnecting path).
 */
public final class SimHost {
  /** Hosts queue rather than fail (ANA failover needs them to wait): long ctrl-loss, no fast fail. */
  public static final ConnectTimeouts HOST_TIMEOUTS = new ConnectTimeouts(5, 600, 1, Optional.empty());

  private final SimNode node;
  private final String hostNqn;

  SimHost(SimNode node, String hostNqn) {
    this.node = node;
    this.hostNqn = hostNqn;
  }

  public SimNode node() {
    return node;
  }

  public String hostNqn() {
    return hostNqn;
  }

  /** nvme connect to one controller of the volume; refused with the kernel's words. */
  public void connect(String subsystemNqn, String address, int serviceId) throws KernelException {
    connect(subsystemNqn, address, serviceId, HOST_TIMEOUTS);
  }

  public void connect(String subsystemNqn, String address, int serviceId, ConnectTimeouts timeouts)
      throws KernelException {
    synchronized (node.cluster().lock()) {
      node.kernel().apply(new KernelOp.Connect(
          new FabricConnection(subsystemNqn, "tcp", address, serviceId, hostNqn, timeouts)));
    }
  }

  public void disconnect(String subsystemNqn) throws KernelException {
    node.kernel().apply(new KernelOp.Disconnect(subsystemNqn));
  }

  /** Writes through the multipath head of the volume's namespace 1. */
  public IoResult write(String subsystemNqn, long offset, byte[] data) {
    synchronized (node.cluster().lock()) {
      return head(subsystemNqn).map(h -> h.write(offset, data)).orElseGet(() -> noDevice(subsystemNqn));
    }
  }

  public IoResult read(String subsystemNqn, long offset, int length) {
    synchronized (node.cluster().lock()) {
      return head(subsystemNqn).map(h -> h.read(offset, length)).orElseGet(() -> noDevice(subsystemNqn));
    }
  }

  /** The controller (nvmeN) the volume's I/O goes to now, if any path is usable. */
  public Optional<String> activePath(String subsystemNqn) {
    synchronized (node.cluster().lock()) {
      return head(subsystemNqn).flatMap(NvmeHostSide.Head::currentPath).map(c -> "nvme" + c.instance);
    }
  }

  /** The head block device (e.g. /dev/nvme2n1), if connected. */
  public Optional<String> devicePath(String subsystemNqn) {
    synchronized (node.cluster().lock()) {
      return head(subsystemNqn).map(NvmeHostSide.Head::path);
    }
  }

  private Optional<NvmeHostSide.Head> head(String subsystemNqn) {
    return node.isUp() ? node.twin().host().head(subsystemNqn, 1) : Optional.empty();
  }

  private IoResult noDevice(String subsystemNqn) {
    return new IoResult.Error(node.isUp()
        ? "host " + node.id() + " has no device for " + subsystemNqn
        : "host " + node.id() + " is down");
  }
}
