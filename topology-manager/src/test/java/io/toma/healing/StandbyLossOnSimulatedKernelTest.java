package io.toma.healing;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.toma.kernel.DesiredState;
import io.toma.kernel.KernelState;
import io.toma.testing.SimulatedKernelCluster;
import io.toma.topology.FailureDomainLevel;
import io.toma.topology.Layout;
import io.toma.topology.VolumeView;
import java.time.Duration;
import java.util.List;
import java.util.Set;
import org.apache.pekko.actor.testkit.typed.javadsl.TestProbe;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;

/**
 * A standby controller lost on its own, end to end: three racks, each with a disk node (rNd) and a
 * controller node (rNc), real agents over simulated kernels. The standby's node crashes while the
 * active is fine; a new standby is placed on the third controller node without a failover, the
 * host gets a path to it, and it is the one promoted when the active's node crashes next.
 */
class StandbyLossOnSimulatedKernelTest {

  static final SimulatedKernelCluster c = SimulatedKernelCluster.named("StandbyLossOnSimulatedKernelTest",
      HealingSettings.defaults().withGraceWindow(Duration.ofSeconds(2)), Duration.ofSeconds(3));

  static {
    for (int r = 1; r <= 3; r++) {
      c.node("r" + r + "d", "rack" + r, "10.3." + r + ".1", Set.of("disk"));
      c.node("r" + r + "c", "rack" + r, "10.3." + r + ".2", Set.of("controller"));
    }
    c.start();
  }

  @AfterAll
  static void shutdown() {
    c.close();
  }

  static String controller(VolumeView v, String role) {
    return v.controllers().stream().filter(x -> x.role().equals(role)).findFirst().orElseThrow().node();
  }

  static boolean exportedAs(String node, String nqn, DesiredState.AnaState state) throws Exception {
    KernelState k = c.nodes.get(node).kernel().read();
    return k.ports().values().stream().filter(p -> p.subsystems().contains(nqn))
        .anyMatch(p -> p.anaGroups().containsValue(state));
  }

  @Test
  void a_lost_standby_is_replaced_without_touching_the_active_and_the_new_standby_takes_over_later()
      throws Exception {
    String id = "vol-sb-lost";
    SimulatedKernelCluster.Writer w = c.onlineVolume(id, 16 * SimulatedKernelCluster.MIB,
        Layout.of(1, 2, 1, FailureDomainLevel.RACK));
    w.write(32);
    VolumeView before = c.view(id);
    String active = controller(before, "active");
    String standby = controller(before, "standby");

    c.crash(standby);
    c.topology.service.faults().tell(new FaultRouter.Signal(new FaultDetector.Downed(standby)));

    TestProbe<Object> probe = c.topology.testKit.createTestProbe();
    VolumeView healed = probe.awaitAssert(Duration.ofSeconds(60), Duration.ofMillis(100), () -> {
      w.write(2); // the host keeps writing through the active meanwhile
      VolumeView v = c.view(id);
      assertEquals("Online", v.state(), String.valueOf(v.reason()));
      assertEquals(2, v.controllers().size(), "two controllers again: " + v.controllers());
      assertTrue(v.controllers().stream().noneMatch(x -> x.node().equals(standby)), v.controllers().toString());
      return v;
    });
    String replacement = controller(healed, "standby");
    assertEquals(active, controller(healed, "active"), "the active stays where it was");
    assertEquals(before.epoch(), healed.epoch(), "no fencing epoch bump: nothing failed over");
    assertNotEquals(active, replacement);
    assertTrue(c.repairSteps(id).stream().noneMatch(s -> s.startsWith("failover:")), "no failover: " + c.repairSteps(id));
    assertTrue(exportedAs(replacement, w.nqn, DesiredState.AnaState.INACCESSIBLE),
        "the new standby exports the volume, ANA inaccessible");
    assertTrue(exportedAs(active, w.nqn, DesiredState.AnaState.OPTIMIZED), "the active still serves, optimized");
    w.connect(replacement);
    w.write(32);

    // the standby placed by this rule is a real one: the active's node crashing promotes it
    c.crash(active);
    c.topology.service.faults().tell(new FaultRouter.Signal(new FaultDetector.Downed(active)));
    VolumeView after = probe.awaitAssert(Duration.ofSeconds(60), Duration.ofMillis(100), () -> {
      VolumeView v = c.awaitState(id, "Online");
      assertEquals(replacement, controller(v, "active"), "the replacement standby was promoted: " + v.controllers());
      return v;
    });
    assertEquals(before.epoch() + 1, after.epoch());
    assertEquals(1, c.repairSteps(id).stream().filter(s -> s.startsWith("failover: PromotionRequested")).count(),
        c.repairSteps(id).toString());
    w.write(32);
    w.verify();
    List<String> steps = c.repairSteps(id);
    assertTrue(steps.stream().anyMatch(s -> s.startsWith("standby placed on " + replacement)), steps.toString());
  }
}
