package io.toma.bench.failover;

import io.toma.systemtest.NodeSpec;
import java.util.List;

/**
 * Where the benchmark's storage roles sit.
 *
 * @param controllerNodes the nodes a volume's controllers can be placed on (the host's paths)
 * @param diskNodes the nodes holding the volume's members
 * @param roundsShareACluster whether the rounds run one after another on one cluster (the killed
 *     node restarted between them) rather than each on a fresh cluster
 */
record Layout(String key, String description, List<NodeSpec> nodes, List<String> controllerNodes,
    List<String> diskNodes, boolean roundsShareACluster) {

  /**
   * The product's layout (DESIGN.md §1, the demo's): 3 managers, 2 disk-only nodes (one replica of
   * the 2-replica leg each, at node level), 3 controller-only nodes (active, standby, and a spare
   * for the new standby). A controller-only active is failed over on unreachability. Rounds share
   * one cluster: the killed controller node is restarted and becomes the next spare.
   */
  static Layout disaggregated() {
    List<String> disk = List.of("disk");
    List<String> controller = List.of("controller");
    return new Layout("disaggregated",
        "disaggregated: 3 managers + 2 disk-only nodes (" + DISKS + ") + 3 controller-only nodes",
        List.of(
            new NodeSpec(1, "m1", List.of("manager"), "z1", "r0"),
            new NodeSpec(2, "m2", List.of("manager"), "z1", "r0"),
            new NodeSpec(3, "m3", List.of("manager"), "z1", "r0"),
            new NodeSpec(4, "d1", disk, "z1", "r1"),
            new NodeSpec(5, "d2", disk, "z1", "r2"),
            new NodeSpec(6, "c1", controller, "z1", "r1"),
            new NodeSpec(7, "c2", controller, "z1", "r2"),
            new NodeSpec(8, "c3", controller, "z1", "r3")),
        List.of("c1", "c2", "c3"), List.of("d1", "d2"), true);
  }

  /**
   * Converged storage nodes (disk and controller on each), two of them: the active and the standby
   * each hold one replica of the 2-replica leg, so the active always holds a member of its own
   * volume and is failed over only once it must have fenced itself (downing + the self-fence
   * timeout). With three such nodes the active may hold no replica and fails over early like a
   * controller-only one. Each round on a fresh cluster (see docs/benchmarks.md §1); no spare node,
   * so the volume runs without a standby afterwards.
   */
  static Layout converged() {
    List<String> storage = List.of("disk", "controller");
    return new Layout("converged",
        "converged: 3 managers + 2 storage nodes (disk and controller; " + DISKS + "), the active holding a"
            + " replica of its own volume",
        List.of(
            new NodeSpec(1, "m1", List.of("manager"), "z1", "r0"),
            new NodeSpec(2, "m2", List.of("manager"), "z1", "r0"),
            new NodeSpec(3, "m3", List.of("manager"), "z1", "r0"),
            new NodeSpec(4, "s1", storage, "z1", "r1"),
            new NodeSpec(5, "s2", storage, "z1", "r2")),
        List.of("s1", "s2"), List.of("s1", "s2"), false);
  }

  static final String DISKS = "simulated machines, 2 x 16 GiB disks each";
}
