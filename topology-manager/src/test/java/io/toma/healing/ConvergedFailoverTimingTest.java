package io.toma.healing;

import static io.toma.testing.TestTopology.ok;
import static org.junit.jupiter.api.Assertions.assertEquals;

import io.toma.agent.NodeAgent;
import io.toma.kernel.sim.SimCluster;
import io.toma.kernel.sim.SimNode;
import io.toma.testing.TestTopology;
import io.toma.topology.FailureDomainLevel;
import io.toma.topology.Layout;
import io.toma.topology.TomaEvent;
import io.toma.topology.TomaEvents;
import io.toma.topology.TopologySettings;
import io.toma.topology.VolumeSpec;
import io.toma.topology.VolumeView;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Set;
import org.apache.pekko.actor.testkit.typed.javadsl.FishingOutcomes;
import org.apache.pekko.actor.testkit.typed.javadsl.TestProbe;
import org.apache.pekko.actor.typed.pubsub.Topic;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;

/**
 * A converged active (it holds a member of its own volume) is failed over once it must have
 * fenced itself: the self-fence timeout after its loss. That wait ends on its own timer: here the
 * volume's resend tick is an hour, so a failover that waited for the tick would never come.
 */
class ConvergedFailoverTimingTest {

  static final long MIB = 1L << 20;
  static final TestTopology topology = new TestTopology("ConvergedFailoverTimingTest",
      TopologySettings.defaults().withApplyResendInterval(Duration.ofHours(1)),
      HealingSettings.defaults().withTimeouts(Duration.ofMillis(300), Duration.ofSeconds(30)));
  static final SimCluster cluster = SimCluster.create();

  static {
    try {
      Path data = Files.createTempDirectory("toma-converged-agents");
      for (int r = 1; r <= 3; r++) {
        String id = "r" + r + "n1";
        SimNode node = cluster.addNode(id, "10.0." + r + ".1");
        node.addDisk(id + "-d0", "/dev/nullb0", 4L << 30);
        NodeAgent.Settings settings = NodeAgent.Settings.of(id, Set.of("disk", "controller"), "z1", "rack" + r,
                node.fabricAddress(), "nqn.2026-11.io.toma:host:" + id,
                List.of(new NodeAgent.DiskSpec(id + "-d0", "/dev/nullb0")), data.resolve(id))
            .withIntervals(Duration.ofMillis(500), Duration.ofMillis(100), Duration.ofSeconds(10));
        topology.testKit.spawn(NodeAgent.create(settings, node.kernel()), "agent-" + id);
      }
    } catch (java.io.IOException e) {
      throw new IllegalStateException(e);
    }
    topology.awaitRegistered(3, 3);
  }

  @AfterAll
  static void shutdown() {
    topology.close();
  }

  @Test
  void a_converged_active_that_is_lost_is_failed_over_when_its_self_fence_wait_ends_not_at_the_next_resend_tick() {
    String id = "vol-converged";
    ok(topology.service.createVolume(new VolumeSpec(id, 64 * MIB, Layout.of(1, 2, 1, FailureDomainLevel.RACK))));
    VolumeView online = topology.testKit.createTestProbe().awaitAssert(Duration.ofSeconds(60), Duration.ofMillis(100),
        () -> {
          VolumeView v = ok(topology.service.getVolume(id));
          assertEquals("Online", v.state(), "reason: " + v.reason());
          return v;
        });
    String active = online.controllers().stream().filter(c -> c.role().equals("active")).findFirst().orElseThrow()
        .node();
    TestProbe<TomaEvent> events = topology.testKit.createTestProbe(TomaEvent.class);
    var topic = TomaEvents.topic(topology.testKit.system());
    topic.tell(Topic.subscribe(events.getRef()));
    TestProbe<Topic.TopicStats> stats = topology.testKit.createTestProbe(Topic.TopicStats.class);
    stats.awaitAssert(Duration.ofSeconds(30), Duration.ofMillis(50), () -> {
      topic.tell(Topic.getTopicStats(stats.getRef()));
      org.junit.jupiter.api.Assertions.assertTrue(stats.receiveMessage().localSubscriberCount() >= 1);
      return null;
    });

    cluster.crash(active);
    topology.service.faults().tell(new FaultRouter.Signal(new FaultDetector.Downed(active)));

    TomaEvent detected = events.fishForMessage(Duration.ofSeconds(30), "the failover detected", e ->
        e.kind().equals(TomaEvent.REPAIR_STEP) && e.subject().equals(id) && e.message().startsWith("failover: Detected")
            ? FishingOutcomes.complete() : FishingOutcomes.continueAndIgnore()).get(0);
    assertEquals(id, detected.subject());
  }
}
