package io.toma.testing;

import io.toma.agent.AgentProtocol;
import io.toma.agent.AgentProtocol.DiskInfo;
import io.toma.topology.NodeView;
import io.toma.topology.TopologyResult;
import io.toma.topology.TopologyService;
import io.toma.topology.TopologySettings;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CompletionStage;
import org.apache.pekko.actor.testkit.typed.javadsl.ActorTestKit;
import org.apache.pekko.actor.testkit.typed.javadsl.TestProbe;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.receptionist.Receptionist;
import org.apache.pekko.cluster.typed.Cluster;
import org.apache.pekko.cluster.typed.Join;

/**
 * A one-node manager cluster with sharding, the in-memory journal and the topology service, plus
 * a small builder of storage nodes whose agents are test probes registered under agentKey(node).
 */
public final class TestTopology implements AutoCloseable {

  public static final long GIB = 1024L * 1024L * 1024L;
  public static final Duration WAIT = Duration.ofSeconds(30);

  public final ActorTestKit testKit;
  public final TopologyService service;
  public final TopologySettings settings;

  public TestTopology(String name, TopologySettings settings) {
    this(name, settings, io.toma.healing.HealingSettings.defaults());
  }

  /** With healing settings (short grace windows for end-to-end healing tests). */
  public TestTopology(String name, TopologySettings settings, io.toma.healing.HealingSettings healing) {
    this.testKit = ActorTestKit.create(name, TestConfigs.persistence());
    this.settings = settings;
    Cluster cluster = Cluster.get(testKit.system());
    cluster.manager().tell(Join.create(cluster.selfMember().address()));
    this.service = TopologyService.init(testKit.system(), settings, healing, true);
  }

  public static TopologySettings fastSettings() {
    return TopologySettings.defaults()
        .withApplyResendInterval(Duration.ofMillis(300))
        .withSnapshotEvery(5)
        .withAskTimeout(Duration.ofSeconds(20));
  }

  /** Register a node as its agent would (through the report sink) and return its agent probe. */
  public TestProbe<AgentProtocol.Command> node(String nodeId, String zone, String rack, Set<String> roles, long... diskSizes) {
    TestProbe<AgentProtocol.Command> agent = testKit.createTestProbe("agent-" + nodeId);
    TestProbe<Receptionist.Registered> registered = testKit.createTestProbe();
    testKit.system().receptionist().tell(
        Receptionist.register(AgentProtocol.agentKey(nodeId), agent.getRef(), registered.getRef()));
    registered.receiveMessage(WAIT);
    List<DiskInfo> disks = new ArrayList<>();
    for (int i = 0; i < diskSizes.length; i++) {
      disks.add(new DiskInfo(nodeId + "-d" + i, diskSizes[i], "/dev/nvme" + i + "n1", true));
    }
    reports().tell(new AgentProtocol.NodeRegistered(nodeId, roles, zone, rack, "10.0.0." + (nodeId.hashCode() & 0xff),
        "nqn.2026-11.io.toma:host:" + nodeId, disks, agent.getRef()));
    return agent;
  }

  /** The report sink, found the way agents find it. */
  public ActorRef<AgentProtocol.Report> reports() {
    TestProbe<Receptionist.Listing> listing = testKit.createTestProbe();
    return listing.awaitAssert(WAIT, () -> {
      testKit.system().receptionist().tell(Receptionist.find(AgentProtocol.REPORTS, listing.getRef()));
      Set<ActorRef<AgentProtocol.Report>> sinks = listing.receiveMessage(WAIT).getServiceInstances(AgentProtocol.REPORTS);
      if (sinks.isEmpty()) {
        throw new AssertionError("no report sink registered yet");
      }
      return sinks.iterator().next();
    });
  }

  /** Wait until the capacity view shows this many nodes and disks. */
  public void awaitRegistered(int nodes, int disks) {
    TestProbe<Object> probe = testKit.createTestProbe();
    probe.awaitAssert(WAIT, () -> {
      List<NodeView> views = ok(service.listNodes());
      if (views.size() != nodes || views.stream().mapToInt(v -> v.disks().size()).sum() != disks) {
        throw new AssertionError("registered so far: " + views);
      }
      return null;
    });
  }

  public static <T> T ok(CompletionStage<TopologyResult<T>> stage) {
    TopologyResult<T> result = stage.toCompletableFuture().join();
    if (result instanceof TopologyResult.Ok<T> ok) {
      return ok.value();
    }
    throw new AssertionError("expected Ok, got " + result);
  }

  @Override
  public void close() {
    testKit.shutdownTestKit();
  }
}
