package io.toma.server;

import static org.junit.jupiter.api.Assertions.assertEquals;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigFactory;
import io.toma.config.TomaConfig;
import io.toma.topology.NodeView;
import io.toma.topology.NodeView.DiskView;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The demo says ready only once every storage node registered with all its disks. */
class DemoReadinessTest {

  static List<NodePlan> plans(Path dataDir) {
    Config base = ConfigFactory.parseString("toma.data-dir = \"" + dataDir + "\"").withFallback(TomaConfig.load());
    int[] port = {25500};
    return DemoTopology.plans(base, DemoEndToEndTest.smallLayout(), i -> port[0] + i, m -> 28080);
  }

  static NodeView node(String id, List<String> roles, DiskView... disks) {
    return new NodeView(id, roles, "z1", "r1", "127.0.1.1:4420", "nqn.2026-11.io.toma:host:" + id, false, 0,
        List.of(disks));
  }

  static DiskView disk(String id, boolean healthy) {
    return new DiskView(id, 1L << 40, 1L << 40, healthy);
  }

  @Test
  void members_up_but_no_agent_registered_is_not_ready_and_every_storage_node_is_named(@TempDir Path dir) {
    assertEquals(List.of("node-1 not registered", "node-2 not registered", "node-3 not registered",
        "node-4 not registered"), DemoReadiness.missing(plans(dir), List.of()));
  }

  @Test
  void a_disk_node_registered_without_its_disk_is_not_ready_yet(@TempDir Path dir) {
    List<NodeView> registered = List.of(
        node("node-1", List.of("disk")),
        node("node-2", List.of("controller")),
        node("node-3", List.of("disk"), disk("node-3-nvme0", false)),
        node("node-4", List.of("controller")));
    assertEquals(List.of("node-1 without disk(s) node-1-nvme0", "node-3 without disk(s) node-3-nvme0"),
        DemoReadiness.missing(plans(dir), registered));
  }

  @Test
  void every_storage_node_with_its_disks_is_ready_and_managers_are_not_waited_for(@TempDir Path dir) {
    List<NodeView> registered = List.of(
        node("node-1", List.of("disk"), disk("node-1-nvme0", true)),
        node("node-2", List.of("controller")),
        node("node-3", List.of("disk"), disk("node-3-nvme0", true)),
        node("node-4", List.of("controller")));
    assertEquals(List.of(), DemoReadiness.missing(plans(dir), registered));
  }
}
