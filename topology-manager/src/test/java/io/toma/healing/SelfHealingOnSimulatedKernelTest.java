package io.toma.healing;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.toma.testing.SimulatedKernelCluster;
import io.toma.testing.SimulatedKernelCluster.Writer;
import io.toma.topology.FailureDomainLevel;
import io.toma.topology.Layout;
import io.toma.topology.TomaEvent;
import io.toma.topology.VolumeView;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import org.apache.pekko.actor.testkit.typed.javadsl.TestProbe;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;

/**
 * Self-healing end to end ({@link SimulatedKernelCluster}): real NodeAgents over simulated kernels
 * (3 racks, each with a disk node rNn1 and a controller node rNn2), the topology manager in one
 * actor system, and a simulated host writing and verifying blocks through the volume while faults
 * happen.
 */
class SelfHealingOnSimulatedKernelTest {

  static final long MIB = SimulatedKernelCluster.MIB;
  static final SimulatedKernelCluster c = SimulatedKernelCluster.named("SelfHealingOnSimulatedKernelTest",
      HealingSettings.defaults(), Duration.ofSeconds(10));

  static {
    for (int r = 1; r <= 3; r++) {
      // n1 of each rack is a disk node, n2 a controller node (disaggregated)
      c.node("r" + r + "n1", "rack" + r, "10.0." + r + ".1", Set.of("disk"));
      c.node("r" + r + "n2", "rack" + r, "10.0." + r + ".2", Set.of("controller"));
    }
    c.start();
  }

  @AfterAll
  static void shutdown() {
    c.close();
  }

  /** Waits until {@code done} holds of the volume's events so far; returns them (messages, in order). */
  static List<String> awaitEvents(String volume, String kind, String awaited,
      java.util.function.Predicate<List<String>> done) {
    TestProbe<Object> probe = c.topology.testKit.createTestProbe();
    return probe.awaitAssert(Duration.ofSeconds(60), Duration.ofMillis(100), () -> {
      c.cluster.advance(Duration.ofMillis(100)); // the resync runs on simulated time
      List<String> seen = c.events.stream().filter(e -> e.kind().equals(kind) && e.subject().equals(volume))
          .map(TomaEvent::message).toList();
      assertTrue(done.test(seen), awaited + "; so far " + seen);
      return seen;
    });
  }

  @Test
  void a_dead_disk_is_rebuilt_elsewhere_while_the_host_keeps_writing_and_every_write_reads_back() {
    String id = "vol-sim-disk";
    Writer w = c.onlineVolume(id, 64 * MIB, Layout.of(1, 2, 1, FailureDomainLevel.RACK));
    VolumeView online = c.view(id);
    w.write(32);
    int statesBefore = awaitEvents(id, TomaEvent.VOLUME_STATE, "the volume Online",
        s -> !s.isEmpty() && s.get(s.size() - 1).startsWith("volume Online")).size();

    VolumeView.ReplicaView victim = online.legs().get(0).replicas().get(1);
    c.cluster.killDisk(victim.node(), victim.disk());
    w.write(32); // raid1 carries on with the surviving member
    List<String> all = awaitEvents(id, TomaEvent.VOLUME_STATE, "the volume back Online",
        s -> s.size() > statesBefore && s.get(s.size() - 1).startsWith("volume Online"));
    List<String> states = new ArrayList<>();
    all.subList(statesBefore, all.size()).forEach(m -> states.add(m.split(":")[0]));
    assertEquals(List.of("volume Degraded", "volume Rebuilding", "volume Online"), states);
    VolumeView healed = c.awaitState(id, "Online");
    List<String> disks = new ArrayList<>();
    healed.legs().forEach(l -> l.replicas().forEach(r -> disks.add(r.disk())));
    assertTrue(!disks.contains(victim.disk()), "no replica left on the dead disk: " + disks);
    assertEquals(2, disks.size());
    w.write(32);
    w.verify();
  }

  @Test
  void the_active_controllers_node_crashes_and_the_standby_takes_over_after_the_fence_with_no_write_lost() {
    String id = "vol-sim-fo";
    Writer w = c.onlineVolume(id, 64 * MIB, Layout.of(1, 2, 1, FailureDomainLevel.RACK));
    VolumeView online = c.view(id);
    w.write(32);
    String active = online.controllers().stream().filter(x -> x.role().equals("active")).findFirst().orElseThrow().node();
    String standby = online.controllers().stream().filter(x -> x.role().equals("standby")).findFirst().orElseThrow().node();

    c.crash(active);
    c.topology.service.faults().tell(new FaultRouter.Signal(new FaultDetector.Downed(active)));

    List<String> steps = awaitEvents(id, TomaEvent.REPAIR_STEP, "the failover done",
        s -> s.stream().anyMatch(m -> m.startsWith("failover: Done")));
    int promotion = -1;
    int lastFence = -1;
    for (int i = 0; i < steps.size(); i++) {
      if (steps.get(i).startsWith("failover: FenceConfirmed")) {
        lastFence = i;
      }
      if (steps.get(i).startsWith("failover: PromotionRequested") && promotion < 0) {
        promotion = i;
      }
    }
    assertTrue(lastFence >= 0 && promotion > lastFence, "every fence confirmed before the promotion: " + steps);
    assertEquals(1, steps.stream().filter(s -> s.startsWith("failover: PromotionRequested")).count(), steps.toString());

    VolumeView after = c.awaitState(id, "Online");
    assertEquals(online.epoch() + 1, after.epoch());
    VolumeView.ControllerView newActive = after.controllers().stream().filter(x -> x.role().equals("active"))
        .findFirst().orElseThrow();
    assertEquals(standby, newActive.node(), "the former standby is active");
    assertTrue(after.controllers().stream().anyMatch(x -> x.role().equals("standby") && !x.node().equals(active)
        && !x.node().equals(standby)), "a new standby is placed: " + after.controllers());
    w.write(32);
    w.verify();
  }
}
