package io.toma.server;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigFactory;
import io.toma.agent.NodeAgent;
import io.toma.api.ApiAuth;
import io.toma.config.TomaConfig;
import io.toma.config.TomaSettings;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.Test;

/** What a node runs and with which settings, decided from its configuration alone. */
class NodeRuntimeTest {

  private static NodePlan plan(String overrides) {
    Config config = ConfigFactory.parseString(overrides).withFallback(TomaConfig.load());
    return new NodePlan(TomaSettings.load(config), config, List.of());
  }

  @Test
  void apiTokensFromTheConfigurationKeepTheirAccessAndAuthOffAcceptsEveryone() {
    ApiAuth on = NodeRuntime.auth(plan("toma.api { auth-enabled = true, tokens = ["
        + "{ token = \"admin-secret\", read-only = false }, { token = \"viewer-secret\", read-only = true } ] }")
        .settings().api());
    assertTrue(on.enabled());
    assertEquals(Optional.of(ApiAuth.Access.READ_WRITE), on.accessOf("admin-secret"));
    assertEquals(Optional.of(ApiAuth.Access.READ_ONLY), on.accessOf("viewer-secret"));
    assertEquals(Optional.empty(), on.accessOf("guess"));
    assertFalse(NodeRuntime.auth(plan("toma.api.auth-enabled = false").settings().api()).enabled());
  }

  @Test
  void aRealNodesDisksComeFromTomaNodeDisksAndAnEntryWithoutADeviceIsRefused() {
    List<NodeAgent.DiskSpec> disks = LinuxDisks.of(plan(
        "toma.node.disks = [ { id = n7-nvme0, device = \"/dev/nvme0n1\" }, { id = n7-nvme1, device = \"/dev/nvme1n1\" } ]")
        .config());
    assertEquals(List.of(new NodeAgent.DiskSpec("n7-nvme0", "/dev/nvme0n1"), new NodeAgent.DiskSpec("n7-nvme1", "/dev/nvme1n1")),
        disks);
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
        () -> LinuxDisks.of(plan("toma.node.disks = [ { id = n7-nvme0 } ]").config()));
    assertTrue(e.getMessage().contains("toma.node.disks[0]"), e.getMessage());
  }

  @Test
  void onlyStorageRolesGetAnAgentAndEveryMemberCarriesItsNodeIdAsARole() {
    assertFalse(NodeRuntime.hasStorageRole(plan("toma.node.roles = [manager]")));
    assertTrue(NodeRuntime.hasStorageRole(plan("toma.node.roles = [manager, controller]")));
    NodePlan node = plan("toma.node { id = node-7, roles = [disk] }");
    List<String> roles = TomaNode.pekkoConfig(node).getStringList("pekko.cluster.roles");
    assertTrue(roles.contains("node:node-7"), roles.toString());
    assertTrue(roles.contains("disk"), roles.toString());
  }

  @Test
  void aManagerHealsWithTheWindowsTimeoutsAndCapsOfItsConfiguration() {
    TomaSettings settings = plan("""
        toma.healing { grace-window = 20s, rack-correlation-window = 4s, fence-confirm-timeout = 7s,
                       controller-failover-confirm = 2s }
        toma.timeouts { self-fence = 5s, host-io-timeout = 40s }
        toma.rebuild { max-concurrent-per-disk = 3, max-concurrent-per-node = 6 }
        """).settings();

    io.toma.healing.HealingSettings healing = NodeRuntime.healing(settings);

    assertEquals(new io.toma.healing.HealingSettings(java.time.Duration.ofSeconds(20),
        java.time.Duration.ofSeconds(4), java.time.Duration.ofSeconds(7), java.time.Duration.ofSeconds(5),
        java.time.Duration.ofSeconds(40), 3, 6, java.time.Duration.ofSeconds(2)), healing);
    assertEquals(List.of(), healing.problems(), "what TomaSettings accepts the healing code accepts too");
    NodeRuntime.checkHealing(settings);
  }

  @Test
  void theShippedDefaultsPassTheHealingChecks() {
    assertEquals(List.of(), NodeRuntime.healing(plan("").settings()).problems());
  }
}
