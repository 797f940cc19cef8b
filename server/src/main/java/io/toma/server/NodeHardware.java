package io.toma.server;

import io.toma.agent.NodeAgent;
import io.toma.kernel.Kernel;
import java.util.List;

/**
 * What a storage node's agent drives: a kernel, the address its NVMe-oF targets listen on, and
 * its disks. On a real machine: the Linux kernel and the configured devices; in the demo: a
 * simulated node of the shared {@code SimCluster}.
 */
record NodeHardware(Kernel kernel, String fabricAddress, List<NodeAgent.DiskSpec> disks) {
  NodeHardware {
    disks = List.copyOf(disks);
  }
}
