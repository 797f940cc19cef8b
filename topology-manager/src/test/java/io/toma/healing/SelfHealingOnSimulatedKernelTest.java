package io.toma.healing;

import static io.toma.testing.TestTopology.ok;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.toma.agent.AgentProtocol;
import io.toma.agent.NodeAgent;
import org.apache.pekko.actor.typed.ActorRef;
import io.toma.kernel.KernelState;
import io.toma.kernel.sim.IoResult;
import io.toma.kernel.sim.SimCluster;
import io.toma.kernel.sim.SimHost;
import io.toma.kernel.sim.SimNode;
import io.toma.testing.TestTopology;
import io.toma.topology.FailureDomainLevel;
import io.toma.topology.Layout;
import io.toma.topology.VolumeSpec;
import io.toma.topology.TomaEvent;
import io.toma.topology.TomaEvents;
import io.toma.topology.VolumeView;
import org.apache.pekko.actor.testkit.typed.javadsl.FishingOutcomes;
import org.apache.pekko.actor.typed.pubsub.Topic;
import io.toma.volume.VolumeNames;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import org.apache.pekko.actor.testkit.typed.javadsl.TestProbe;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;

/**
 * Self-healing end to end: real NodeAgents over the simulated kernels of a {@link SimCluster}
 * (3 racks, each with a disk node and a controller node), the topology manager in one actor system, and a simulated
 * host writing and verifying blocks through the volume while faults happen. Simulated time is
 * advanced by the test alongside the actors (each wait loop moves it on a little).
 */
class SelfHealingOnSimulatedKernelTest {

  static final long MIB = 1L << 20;
  static final String HOST = "nqn.2026-11.io.toma:host:app1";
  static final TestTopology topology = new TestTopology("SelfHealingOnSimulatedKernelTest",
      TestTopology.fastSettings());
  static final SimCluster cluster = SimCluster.create();
  static final Map<String, SimNode> nodes = new TreeMap<>();
  static final Map<String, ActorRef<AgentProtocol.Command>> agents = new TreeMap<>();

  static {
    try {
      Path data = Files.createTempDirectory("toma-sim-agents");
      for (int r = 1; r <= 3; r++) {
        for (int n = 1; n <= 2; n++) {
          String id = "r" + r + "n" + n;
          SimNode node = cluster.addNode(id, "10.0." + r + "." + n);
          // n1 of each rack is a disk node, n2 a controller node (disaggregated)
          boolean diskNode = n == 1;
          if (diskNode) {
            node.addDisk(id + "-d0", "/dev/nullb0", 4L << 30);
          }
          nodes.put(id, node);
          NodeAgent.Settings settings = NodeAgent.Settings.of(id, Set.of(diskNode ? "disk" : "controller"), "z1",
                  "rack" + r, node.fabricAddress(), "nqn.2026-11.io.toma:host:" + id,
                  diskNode ? List.of(new NodeAgent.DiskSpec(id + "-d0", "/dev/nullb0")) : List.of(), data.resolve(id))
              .withIntervals(Duration.ofMillis(500), Duration.ofMillis(100), Duration.ofSeconds(10));
          agents.put(id, topology.testKit.spawn(NodeAgent.create(settings, node.kernel()), "agent-" + id));
        }
      }
    } catch (java.io.IOException e) {
      throw new IllegalStateException(e);
    }
    topology.awaitRegistered(6, 3);
  }

  @AfterAll
  static void shutdown() {
    topology.close();
  }

  /** Wait for a volume state, moving simulated time on while waiting (resyncs progress with it). */
  static VolumeView awaitState(String volume, String state) {
    TestProbe<Object> probe = topology.testKit.createTestProbe();
    return probe.awaitAssert(Duration.ofSeconds(60), Duration.ofMillis(100), () -> {
      cluster.advance(Duration.ofMillis(200));
      VolumeView v = ok(topology.service.getVolume(volume));
      assertEquals(state, v.state(), "reason: " + v.reason());
      return v;
    });
  }

  static int volumePort(String controllerNode, String nqn) throws Exception {
    KernelState k = nodes.get(controllerNode).kernel().read();
    return k.ports().values().stream().filter(p -> p.subsystems().contains(nqn)).findFirst().orElseThrow().serviceId();
  }

  static byte[] block(int i) {
    byte[] b = new byte[4096];
    java.util.Arrays.fill(b, (byte) (i * 7 + 1));
    return b;
  }

  static void write(SimHost host, String nqn, int i) {
    IoResult r = host.write(nqn, (long) i * 4096, block(i));
    for (int tries = 0; r instanceof IoResult.Retry && tries < 100; tries++) {
      cluster.advance(Duration.ofMillis(50));
      r = host.write(nqn, (long) i * 4096, block(i));
    }
    assertInstanceOf(IoResult.Ok.class, r, "write " + i + ": " + r);
  }

  static void verify(SimHost host, String nqn, int count) {
    for (int i = 0; i < count; i++) {
      IoResult r = host.read(nqn, (long) i * 4096, 4096);
      for (int tries = 0; r instanceof IoResult.Retry && tries < 100; tries++) {
        cluster.advance(Duration.ofMillis(50));
        r = host.read(nqn, (long) i * 4096, 4096);
      }
      IoResult.Ok ok = assertInstanceOf(IoResult.Ok.class, r, "read " + i + ": " + r);
      assertArrayEquals(block(i), ok.data(), "block " + i + " reads back as written");
    }
  }

  @Test
  void a_dead_disk_is_rebuilt_elsewhere_while_the_host_keeps_writing_and_every_write_reads_back() throws Exception {
    String id = "vol-sim-disk";
    ok(topology.service.createVolume(new VolumeSpec(id, 64 * MIB, Layout.of(1, 2, 1, FailureDomainLevel.RACK))));
    ok(topology.service.attach(id, HOST));
    VolumeView online;
    try {
      online = awaitState(id, "Online");
    } catch (AssertionError e) {
      for (var n : nodes.entrySet()) {
        KernelState k = n.getValue().kernel().read();
        System.out.println("DEBUG " + n.getKey() + " ports " + k.ports() + " subsystems " + k.subsystems()
            + " all " + k);
      }
      throw e;
    }
    String nqn = VolumeNames.volumeNqn(id);
    SimHost host = cluster.addHost("h1", "10.9.0.1", HOST);
    for (VolumeView.ControllerView c : online.controllers()) {
      host.connect(nqn, nodes.get(c.node()).fabricAddress(), volumePort(c.node(), nqn));
    }
    int written = 0;
    for (; written < 32; written++) {
      write(host, nqn, written);
    }

    TestProbe<TomaEvent> events = topology.testKit.createTestProbe(TomaEvent.class);
    subscribe(events);
    VolumeView.ReplicaView victim = online.legs().get(0).replicas().get(1);
    cluster.killDisk(victim.node(), victim.disk());
    for (; written < 64; written++) {
      write(host, nqn, written); // raid1 carries on with the surviving member
    }
    List<String> states = new ArrayList<>();
    events.fishForMessage(Duration.ofSeconds(60), "the volume back Online", e -> {
      cluster.advance(Duration.ofMillis(100)); // the resync runs on simulated time
      if (!e.kind().equals(TomaEvent.VOLUME_STATE) || !e.subject().equals(id)) {
        return FishingOutcomes.continueAndIgnore();
      }
      states.add(e.message().split(":")[0]);
      return e.message().startsWith("volume Online") ? FishingOutcomes.complete() : FishingOutcomes.continueAndIgnore();
    });
    assertEquals(List.of("volume Degraded", "volume Rebuilding", "volume Online"), states);
    VolumeView healed = awaitState(id, "Online");
    List<String> disks = new ArrayList<>();
    healed.legs().forEach(l -> l.replicas().forEach(r -> disks.add(r.disk())));
    assertTrue(!disks.contains(victim.disk()), "no replica left on the dead disk: " + disks);
    assertEquals(2, disks.size());
    for (; written < 96; written++) {
      write(host, nqn, written);
    }
    verify(host, nqn, written);
  }

  @Test
  void the_active_controllers_node_crashes_and_the_standby_takes_over_after_the_fence_with_no_write_lost()
      throws Exception {
    String id = "vol-sim-fo";
    ok(topology.service.createVolume(new VolumeSpec(id, 64 * MIB, Layout.of(1, 2, 1, FailureDomainLevel.RACK))));
    ok(topology.service.attach(id, HOST));
    VolumeView online = awaitState(id, "Online");
    String nqn = VolumeNames.volumeNqn(id);
    SimHost host = cluster.addHost("h2", "10.9.0.2", HOST);
    for (VolumeView.ControllerView c : online.controllers()) {
      host.connect(nqn, nodes.get(c.node()).fabricAddress(), volumePort(c.node(), nqn));
    }
    int written = 0;
    for (; written < 32; written++) {
      write(host, nqn, written);
    }
    String active = online.controllers().stream().filter(c -> c.role().equals("active")).findFirst().orElseThrow().node();
    String standby = online.controllers().stream().filter(c -> c.role().equals("standby")).findFirst().orElseThrow().node();
    TestProbe<TomaEvent> events = topology.testKit.createTestProbe(TomaEvent.class);
    subscribe(events);

    cluster.crash(active);
    topology.testKit.stop(agents.get(active));
    topology.service.faults().tell(new FaultRouter.Signal(new FaultDetector.Downed(active)));

    List<String> steps = new ArrayList<>();
    events.fishForMessage(Duration.ofSeconds(60), "the failover done", e -> {
      cluster.advance(Duration.ofMillis(100));
      if (!e.kind().equals(TomaEvent.REPAIR_STEP) || !e.subject().equals(id)) {
        return FishingOutcomes.continueAndIgnore();
      }
      steps.add(e.message());
      return e.message().startsWith("failover: Done") ? FishingOutcomes.complete() : FishingOutcomes.continueAndIgnore();
    });
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

    VolumeView after = awaitState(id, "Online");
    assertEquals(online.epoch() + 1, after.epoch());
    VolumeView.ControllerView newActive = after.controllers().stream().filter(c -> c.role().equals("active"))
        .findFirst().orElseThrow();
    assertEquals(standby, newActive.node(), "the former standby is active");
    assertTrue(after.controllers().stream().anyMatch(c -> c.role().equals("standby") && !c.node().equals(active)
        && !c.node().equals(standby)), "a new standby is placed: " + after.controllers());
    for (; written < 64; written++) {
      write(host, nqn, written);
    }
    verify(host, nqn, written);
  }

  /**
   * Subscribes to the events topic and waits until the subscription is in place: a subscription is
   * registered asynchronously, and on a loaded machine the fault's first events came before it and
   * were missed (the test then waited for an Online it had already been told about).
   */
  private void subscribe(TestProbe<TomaEvent> events) {
    var topic = TomaEvents.topic(topology.testKit.system());
    topic.tell(Topic.subscribe(events.getRef()));
    TestProbe<Topic.TopicStats> stats = topology.testKit.createTestProbe(Topic.TopicStats.class);
    stats.awaitAssert(Duration.ofSeconds(30), Duration.ofMillis(50), () -> {
      topic.tell(Topic.getTopicStats(stats.getRef()));
      org.junit.jupiter.api.Assertions.assertTrue(stats.receiveMessage().localSubscriberCount() >= 1);
      return null;
    });
  }
}
