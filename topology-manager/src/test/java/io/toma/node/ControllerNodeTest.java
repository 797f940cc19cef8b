package io.toma.node;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.toma.testing.TestConfigs;
import io.toma.topology.ControllerRole;
import io.toma.topology.NodeFacts;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CopyOnWriteArrayList;
import org.apache.pekko.actor.testkit.typed.javadsl.ActorTestKit;
import org.apache.pekko.persistence.testkit.javadsl.EventSourcedBehaviorTestKit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

class ControllerNodeTest {

  static final ActorTestKit testKit = ActorTestKit.create("ControllerNodeTest", TestConfigs.persistence());

  final List<NodeFacts> published = new CopyOnWriteArrayList<>();
  EventSourcedBehaviorTestKit<ControllerNode.Command, ControllerNode.Event, ControllerNode.State> node;

  @AfterAll
  static void shutdown() {
    testKit.shutdownTestKit();
  }

  @BeforeEach
  void setUp() {
    node = EventSourcedBehaviorTestKit.create(testKit.system(), ControllerNode.create("c1", published::add, 2, 3));
    node.clear();
    node.runCommand(new ControllerNode.Register(Set.of("controller", "disk"), "z1", "r1", "10.0.0.1",
        "nqn.2026-11.io.toma:host:c1"));
  }

  ControllerNode.SlotReply host(String volume, ControllerRole role) {
    return node.<ControllerNode.SlotReply>runCommand(r -> new ControllerNode.HostController(volume, role, r)).reply();
  }

  @Test
  void eachHostedVolumeGetsItsOwnPortFromTheRangeAndAskingAgainKeepsIt() {
    ControllerNode.SlotGranted a = assertInstanceOf(ControllerNode.SlotGranted.class, host("vol1", ControllerRole.ACTIVE));
    ControllerNode.SlotGranted b = assertInstanceOf(ControllerNode.SlotGranted.class, host("vol2", ControllerRole.STANDBY));
    assertEquals(4430, a.serviceId());
    assertNotEquals(a.serviceId(), b.serviceId());
    assertEquals(a.serviceId(), ((ControllerNode.SlotGranted) host("vol1", ControllerRole.ACTIVE)).serviceId());
    assertEquals(2, published.get(published.size() - 1).hostedControllers());
  }

  @Test
  void aNodeWithEverySlotTakenRefusesAndReleasingFreesTheSlot() {
    host("vol1", ControllerRole.ACTIVE);
    host("vol2", ControllerRole.ACTIVE);
    assertInstanceOf(ControllerNode.SlotRefused.class, host("vol3", ControllerRole.ACTIVE));
    node.<ControllerNode.NodeReply>runCommand(r -> new ControllerNode.ReleaseController("vol1", r));
    assertEquals(4430, ((ControllerNode.SlotGranted) host("vol3", ControllerRole.ACTIVE)).serviceId());
  }

  @Test
  void aCordonedNodeTakesNoNewControllerAndSaysSoInItsFacts() {
    var status = node.<ControllerNode.NodeReply>runCommand(r -> new ControllerNode.SetCordoned(true, r)).reply();
    assertTrue(((ControllerNode.NodeStatus) status).facts().cordoned());
    ControllerNode.SlotRefused refused = assertInstanceOf(ControllerNode.SlotRefused.class, host("vol1", ControllerRole.ACTIVE));
    assertEquals("node cordoned", refused.reason());
    assertTrue(published.get(published.size() - 1).cordoned());
  }

  @Test
  void cordoningAnUnknownNodeAnswersUnknown() {
    var fresh = EventSourcedBehaviorTestKit.<ControllerNode.Command, ControllerNode.Event, ControllerNode.State>create(
        testKit.system(), ControllerNode.create("ghost", NodeObserver.NONE, 2, 3));
    assertEquals(new ControllerNode.UnknownNode("ghost"),
        fresh.<ControllerNode.NodeReply>runCommand(r -> new ControllerNode.SetCordoned(true, r)).reply());
  }

  @Test
  void theNodeRecoversFromEventsAndFromASnapshot() {
    host("vol1", ControllerRole.ACTIVE);
    ControllerNode.State afterEvents = node.getState();
    assertEquals(afterEvents, node.restart().state());
    host("vol2", ControllerRole.STANDBY); // third event: snapshot
    ControllerNode.State before = node.getState();
    node.snapshotTestKit().orElseThrow().expectNextPersisted("ControllerNode|c1", before);
    node.persistenceTestKit().clearByPersistenceId("ControllerNode|c1");
    assertEquals(before, node.restart().state());
  }

  @Test
  void aNodeDeclaredLostGetsNoNewControllerUntilItRegistersAgain() {
    node.runCommand(new ControllerNode.MarkLost("downed"));
    assertTrue(published.get(published.size() - 1).lost(), "the capacity view hears the node is lost");
    assertInstanceOf(ControllerNode.SlotRefused.class, host("vol1", ControllerRole.ACTIVE));

    node.runCommand(new ControllerNode.Register(Set.of("controller", "disk"), "z1", "r1", "10.0.0.1",
        "nqn.2026-11.io.toma:host:c1"));

    assertTrue(!published.get(published.size() - 1).lost(), "the same registration brings the node back");
    assertInstanceOf(ControllerNode.SlotGranted.class, host("vol1", ControllerRole.ACTIVE));
    node.restart();
    assertTrue(!node.getState().lost(), "the return survives a restart");
  }
}
