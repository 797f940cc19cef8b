package io.toma.server;

import io.prometheus.metrics.model.registry.PrometheusRegistry;
import io.toma.api.DemoFaults;
import java.util.Optional;
import java.util.function.Function;

/**
 * What the process gives a node beyond its plan: the hardware its agent drives (the machine's
 * own, or a simulated node in the demo), the demo's fault switches, and the metrics registry its
 * API serves (the demo's front manager shares one with the demo host, so its counters show there).
 */
record NodeServices(
    Function<NodePlan, NodeHardware> hardware,
    Optional<DemoFaults> faults,
    Optional<PrometheusRegistry> registry) {

  /** {@code toma server}: the Linux kernel of this machine and the disks of toma.node.disks. */
  static NodeServices linux() {
    return new NodeServices(LinuxDisks::hardware, Optional.empty(), Optional.empty());
  }

  /**
   * {@code toma server} with {@code toma.node.kernel = simulated}: a simulated machine whose
   * NVMe-oF fabric crosses processes ({@link SimulatedMachine}); started when the node starts.
   */
  static NodeServices simulated() {
    return new NodeServices(plan -> SimulatedMachine.start(plan).hardware(), Optional.empty(), Optional.empty());
  }

  NodeServices withRegistry(Optional<PrometheusRegistry> r) {
    return new NodeServices(hardware, faults, r);
  }
}
