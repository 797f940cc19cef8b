package io.toma.server;

import com.typesafe.config.Config;
import io.toma.agent.NodeAgent;
import io.toma.kernel.Kernel;
import io.toma.kernel.linux.LinuxKernel;
import io.toma.kernel.linux.LocalHostIo;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The disks a real node gives Toma, from {@code toma.node.disks} (server/reference.conf), and the
 * Linux kernel backend over them.
 */
final class LinuxDisks {
  private LinuxDisks() {}

  /** @throws IllegalArgumentException naming the key when an entry lacks its id or device */
  static List<NodeAgent.DiskSpec> of(Config config) {
    List<NodeAgent.DiskSpec> disks = new ArrayList<>();
    int i = 0;
    for (Config entry : config.getConfigList("toma.node.disks")) {
      if (!entry.hasPath("id") || !entry.hasPath("device")) {
        throw new IllegalArgumentException("toma.node.disks[" + i + "] needs both id and device");
      }
      disks.add(new NodeAgent.DiskSpec(entry.getString("id"), entry.getString("device")));
      i++;
    }
    return List.copyOf(disks);
  }

  /** This machine: its Linux kernel, the host part of toma.node.fabric-address, its disks. */
  static NodeHardware hardware(NodePlan plan) {
    List<NodeAgent.DiskSpec> disks = of(plan.config());
    Map<String, String> paths = new LinkedHashMap<>();
    disks.forEach(d -> paths.put(d.diskId(), d.devicePath()));
    Kernel kernel = new LinuxKernel(new LocalHostIo(), paths);
    return new NodeHardware(kernel, plan.settings().node().fabricAddress().host(), disks);
  }
}
