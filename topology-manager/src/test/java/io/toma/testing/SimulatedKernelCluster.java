package io.toma.testing;

import static io.toma.testing.TestTopology.ok;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.toma.agent.AgentProtocol;
import io.toma.agent.NodeAgent;
import io.toma.healing.HealingSettings;
import io.toma.kernel.KernelState;
import io.toma.kernel.sim.IoResult;
import io.toma.kernel.sim.SimClock;
import io.toma.kernel.sim.SimCluster;
import io.toma.kernel.sim.SimHost;
import io.toma.kernel.sim.SimNode;
import io.toma.topology.Layout;
import io.toma.topology.TomaEvent;
import io.toma.topology.TomaEvents;
import io.toma.topology.VolumeSpec;
import io.toma.topology.VolumeView;
import io.toma.volume.VolumeNames;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneId;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import org.apache.pekko.actor.testkit.typed.javadsl.TestProbe;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.javadsl.Behaviors;
import org.apache.pekko.actor.typed.pubsub.Topic;

/**
 * The shared setup of the end-to-end healing tests: real {@link NodeAgent}s over the simulated
 * kernels of a {@link SimCluster}, the topology manager of a {@link TestTopology}, every event of
 * the events topic collected, and simulated time moving on its own (50 ms every 50 ms) besides
 * what the waits add. Agents read the simulated clock, so their path grace is exact.
 *
 * <pre>
 *   SimulatedKernelCluster c = SimulatedKernelCluster.named("MyTest", healing)
 *       .converged("r1a", "rack1", "10.2.1.1")...start();
 *   SimulatedKernelCluster.Writer w = c.onlineVolume("vol", 16 * MIB, layout);
 * </pre>
 */
public final class SimulatedKernelCluster implements AutoCloseable {

  public static final long MIB = 1L << 20;

  public final TestTopology topology;
  public final SimCluster cluster = SimCluster.create();
  public final Map<String, SimNode> nodes = new TreeMap<>();
  public final Map<String, ActorRef<AgentProtocol.Command>> agents = new TreeMap<>();
  public final ConcurrentLinkedQueue<TomaEvent> events = new ConcurrentLinkedQueue<>();
  private final Path data;
  private final Duration pathGrace;
  private final ScheduledExecutorService clock = Executors.newSingleThreadScheduledExecutor(r -> {
    Thread t = new Thread(r, "sim-clock");
    t.setDaemon(true);
    return t;
  });
  private int disks;

  private SimulatedKernelCluster(String name, HealingSettings healing, Duration pathGrace) {
    this.topology = new TestTopology(name, TestTopology.fastSettings(), healing);
    this.pathGrace = pathGrace;
    try {
      this.data = Files.createTempDirectory("toma-" + name);
    } catch (IOException e) {
      throw new IllegalStateException(e);
    }
  }

  /** A cluster whose agents wait {@code pathGrace} of simulated time before reporting a lost path. */
  public static SimulatedKernelCluster named(String name, HealingSettings healing, Duration pathGrace) {
    return new SimulatedKernelCluster(name, healing, pathGrace);
  }

  /** A node that is both a disk node (one 4 GiB disk, {@code <id>-d0}) and a controller node. */
  public SimulatedKernelCluster converged(String id, String rack, String address) {
    return node(id, rack, address, Set.of("disk", "controller"));
  }

  /** A node with the given roles; a disk node gets one 4 GiB disk, {@code <id>-d0}. */
  public SimulatedKernelCluster node(String id, String rack, String address, Set<String> roles) {
    SimNode node = cluster.addNode(id, address);
    boolean disk = roles.contains("disk");
    if (disk) {
      node.addDisk(id + "-d0", "/dev/nullb0", 4L << 30);
      disks++;
    }
    nodes.put(id, node);
    NodeAgent.Settings settings = NodeAgent.Settings.of(id, roles, "z1", rack, node.fabricAddress(),
            "nqn.2026-11.io.toma:host:" + id,
            disk ? List.of(new NodeAgent.DiskSpec(id + "-d0", "/dev/nullb0")) : List.of(), data.resolve(id))
        .withIntervals(Duration.ofMillis(500), Duration.ofMillis(100), pathGrace)
        .withClock(new SimTime(cluster.clock()));
    agents.put(id, topology.testKit.spawn(NodeAgent.create(settings, node.kernel()), "agent-" + id));
    return this;
  }

  /** Wait for every node and disk to register, collect the events topic, start the clock. */
  public SimulatedKernelCluster start() {
    topology.awaitRegistered(nodes.size(), disks);
    ActorRef<TomaEvent> sink = topology.testKit.spawn(Behaviors.receive(TomaEvent.class)
        .onMessage(TomaEvent.class, e -> {
          events.add(e);
          return Behaviors.same();
        }).build(), "event-sink");
    var topic = TomaEvents.topic(topology.testKit.system());
    topic.tell(Topic.subscribe(sink));
    // a subscription lands asynchronously: events published before it would be missed
    TestProbe<Topic.TopicStats> stats = topology.testKit.createTestProbe(Topic.TopicStats.class);
    stats.awaitAssert(Duration.ofSeconds(30), Duration.ofMillis(50), () -> {
      topic.tell(Topic.getTopicStats(stats.getRef()));
      assertTrue(stats.receiveMessage().localSubscriberCount() >= 1);
      return null;
    });
    clock.scheduleAtFixedRate(() -> cluster.advance(Duration.ofMillis(50)), 50, 50, TimeUnit.MILLISECONDS);
    return this;
  }

  /** The node crashes for real: its kernel stops answering and its agent is gone. */
  public void crash(String node) {
    cluster.crash(node);
    topology.testKit.stop(agents.get(node));
  }

  public VolumeView view(String id) {
    return ok(topology.service.getVolume(id));
  }

  /** Wait (up to a minute) for a volume to show {@code state}, moving simulated time on meanwhile. */
  public VolumeView awaitState(String id, String state) {
    TestProbe<Object> probe = topology.testKit.createTestProbe();
    return probe.awaitAssert(Duration.ofSeconds(60), Duration.ofMillis(100), () -> {
      cluster.advance(Duration.ofMillis(100));
      VolumeView v = view(id);
      assertEquals(state, v.state(), id + " " + v.reason());
      return v;
    });
  }

  /** Repair steps published for a volume, in order. */
  public List<String> repairSteps(String volume) {
    return events.stream().filter(e -> e.kind().equals(TomaEvent.REPAIR_STEP) && e.subject().equals(volume))
        .map(TomaEvent::message).toList();
  }

  /** Create a volume, attach a host of its own, wait for Online and connect the host to every controller. */
  public Writer onlineVolume(String id, long sizeBytes, Layout layout) {
    String hostNqn = "nqn.2026-11.io.toma:host:h-" + id;
    ok(topology.service.createVolume(new VolumeSpec(id, sizeBytes, layout)));
    ok(topology.service.attach(id, hostNqn));
    VolumeView v = awaitState(id, "Online");
    SimHost host = cluster.addHost("h-" + id, "10.9." + ((id.hashCode() >>> 8) & 0x7f) + "." + (id.hashCode() & 0x7f),
        hostNqn);
    Writer w = new Writer(id, host, VolumeNames.volumeNqn(id));
    v.controllers().forEach(c -> w.connect(c.node()));
    return w;
  }

  /** The nvmet port a controller node exports the volume on. */
  public int volumePort(String controllerNode, String nqn) {
    try {
      KernelState k = nodes.get(controllerNode).kernel().read();
      return k.ports().values().stream().filter(p -> p.subsystems().contains(nqn)).findFirst().orElseThrow()
          .serviceId();
    } catch (Exception e) {
      throw new AssertionError("no export of " + nqn + " on " + controllerNode, e);
    }
  }

  /** One volume as its host sees it; {@code written} counts acknowledged writes. */
  public final class Writer {
    public final String id;
    public final SimHost host;
    public final String nqn;
    public int written;
    private final List<String> paths = new ArrayList<>();

    Writer(String id, SimHost host, String nqn) {
      this.id = id;
      this.host = host;
      this.nqn = nqn;
    }

    /** Connect the host to the volume's export on a controller node (once per node). */
    public void connect(String controllerNode) {
      if (!paths.contains(controllerNode)) {
        try {
          host.connect(nqn, nodes.get(controllerNode).fabricAddress(), volumePort(controllerNode, nqn));
        } catch (io.toma.kernel.KernelException e) {
          throw new AssertionError("the host cannot connect to " + controllerNode, e);
        }
        paths.add(controllerNode);
      }
    }

    byte[] block(int i) {
      byte[] b = new byte[4096];
      java.util.Arrays.fill(b, (byte) (i * 11 + id.hashCode()));
      return b;
    }

    /** Write {@code count} blocks, each acknowledged (retried while the host's paths fail over). */
    public void write(int count) {
      for (int n = 0; n < count; n++) {
        int i = written % 2048; // 8 MiB of distinct blocks, then the same blocks again
        IoResult r = host.write(nqn, (long) i * 4096, block(i));
        for (int tries = 0; r instanceof IoResult.Retry && tries < 400; tries++) {
          cluster.advance(Duration.ofMillis(50));
          r = host.write(nqn, (long) i * 4096, block(i));
        }
        assertInstanceOf(IoResult.Ok.class, r, id + " write " + i + ": " + r);
        written++;
      }
    }

    /** Every acknowledged write reads back. */
    public void verify() {
      for (int i = 0; i < Math.min(written, 2048); i++) {
        IoResult r = host.read(nqn, (long) i * 4096, 4096);
        for (int tries = 0; r instanceof IoResult.Retry && tries < 400; tries++) {
          cluster.advance(Duration.ofMillis(50));
          r = host.read(nqn, (long) i * 4096, 4096);
        }
        IoResult.Ok read = assertInstanceOf(IoResult.Ok.class, r, id + " read " + i + ": " + r);
        assertArrayEquals(block(i), read.data(), id + " block " + i + " reads back as written");
      }
    }
  }

  /**
   * The simulated time as a java.time.Clock, for the agents' watchers. It holds the clock itself:
   * agents read it while a test class is still initialising, and a read of that class's static
   * field from their threads would wait for the initialisation (a deadlock).
   */
  static final class SimTime extends Clock {
    private final SimClock clock;

    SimTime(SimClock clock) {
      this.clock = clock;
    }

    @Override
    public ZoneId getZone() {
      return ZoneOffset.UTC;
    }

    @Override
    public Clock withZone(ZoneId zone) {
      return this;
    }

    @Override
    public Instant instant() {
      return Instant.ofEpochMilli(1_800_000_000_000L + clock.nowNanos() / 1_000_000);
    }
  }

  @Override
  public void close() {
    clock.shutdownNow();
    topology.close();
  }
}
