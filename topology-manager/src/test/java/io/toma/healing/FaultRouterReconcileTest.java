package io.toma.healing;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.toma.capacity.CapacityView;
import io.toma.disk.DiskObserver;
import io.toma.disk.PhysicalDisk;
import io.toma.node.ControllerNode;
import io.toma.testing.TestConfigs;
import io.toma.topology.DiskFacts;
import io.toma.topology.NodeFacts;
import io.toma.topology.TomaEvent;
import io.toma.topology.TomaEvents;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import org.apache.pekko.actor.testkit.typed.javadsl.ActorTestKit;
import org.apache.pekko.actor.testkit.typed.javadsl.TestProbe;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.javadsl.Behaviors;
import org.apache.pekko.actor.typed.pubsub.Topic;
import org.apache.pekko.cluster.sharding.typed.javadsl.ClusterSharding;
import org.apache.pekko.cluster.typed.Cluster;
import org.apache.pekko.cluster.typed.Join;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The hand-over case of the multi-process tests, in one process: the router starts after node n2
 * left the cluster (it was downed and removed while the old router's member died), so it hears no
 * membership event of that loss; it must still route it.
 */
class FaultRouterReconcileTest {

  static final ActorTestKit testKit = ActorTestKit.create("FaultRouterReconcileTest", TestConfigs.persistence());
  static final Duration PATIENCE = Duration.ofSeconds(30);

  @BeforeAll
  static void cluster() {
    Cluster cluster = Cluster.get(testKit.system());
    cluster.manager().tell(Join.create(cluster.selfMember().address()));
    ControllerNode.init(testKit.system(), facts -> { }, 8, 100);
    PhysicalDisk.init(testKit.system(), new DiskObserver() {
      @Override
      public void changed(DiskFacts facts) {}

      @Override
      public void lost(String diskId, Set<String> volumeIds, String reason) {}
    }, 100);
  }

  @AfterAll
  static void shutdown() {
    testKit.shutdownTestKit();
  }

  private static NodeFacts node(String id) {
    return new NodeFacts(id, Set.of("controller", "disk"), "z1", "r1", "10.0.0." + id.charAt(1), "nqn.h" + id, false,
        0);
  }

  @Test
  void aRouterStartedAfterANodeLeftTheClusterStillRoutesItsLoss() {
    ClusterSharding sharding = ClusterSharding.get(testKit.system());
    for (String id : List.of("n1", "n2")) {
      sharding.entityRefFor(ControllerNode.TYPE_KEY, id).tell(new ControllerNode.Register(
          Set.of("controller", "disk"), "z1", "r1", "10.0.0.1", "nqn.h" + id));
    }
    sharding.entityRefFor(PhysicalDisk.TYPE_KEY, "n2-d0").tell(new PhysicalDisk.Register("n2", "z1", "r1", 1L << 30, true));
    CapacityView.Snapshot snapshot = new CapacityView.Snapshot(
        List.of(new DiskFacts("n2-d0", "n2", "z1", "r1", 1L << 30, 1L << 30, true, 0)),
        List.of(node("n1"), node("n2")));
    ActorRef<CapacityView.Command> capacity = testKit.spawn(Behaviors.receiveMessage(c -> {
      if (c instanceof CapacityView.GetSnapshot get) {
        get.replyTo().tell(snapshot);
      }
      return Behaviors.same();
    }));
    TestProbe<TomaEvent> events = testKit.createTestProbe();
    TomaEvents.topic(testKit.system()).tell(Topic.subscribe(events.getRef()));

    // n2 is known to the topology but is no member: only n1 is live
    testKit.spawn(FaultRouter.create(capacity, HealingSettings.defaults(), false,
        Optional.of(() -> Set.of("n1"))));

    TomaEvent fault = events.fishForMessage(PATIENCE, e -> TomaEvent.FAULT_DETECTED.equals(e.kind())
        ? org.apache.pekko.actor.testkit.typed.javadsl.FishingOutcomes.complete()
        : org.apache.pekko.actor.testkit.typed.javadsl.FishingOutcomes.continueAndIgnore()).get(0);
    assertEquals("n2", fault.subject(), "the live node n1 is no loss; n2 is");
    TestProbe<ControllerNode.NodeReply> node = testKit.createTestProbe();
    node.awaitAssert(PATIENCE, () -> {
      sharding.entityRefFor(ControllerNode.TYPE_KEY, "n2").tell(new ControllerNode.Get(node.getRef()));
      ControllerNode.NodeStatus status = (ControllerNode.NodeStatus) node.receiveMessage(Duration.ofSeconds(5));
      assertTrue(status.facts().lost(), "n2 is no placement candidate any more");
      return null;
    });
    TestProbe<PhysicalDisk.DiskStatus> disk = testKit.createTestProbe();
    disk.awaitAssert(PATIENCE, () -> {
      sharding.entityRefFor(PhysicalDisk.TYPE_KEY, "n2-d0").tell(new PhysicalDisk.Get(disk.getRef()));
      assertTrue(disk.receiveMessage(Duration.ofSeconds(5)).lost(), "n2's disk is marked lost with it");
      return null;
    });
    sharding.entityRefFor(ControllerNode.TYPE_KEY, "n1").tell(new ControllerNode.Get(node.getRef()));
    assertTrue(!((ControllerNode.NodeStatus) node.receiveMessage(PATIENCE)).facts().lost(), "n1 is live");
  }
}
