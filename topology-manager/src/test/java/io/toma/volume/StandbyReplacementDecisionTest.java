package io.toma.volume;

import static io.toma.volume.VolumeHealingDecisionTest.reportInSync;
import static io.toma.volume.VolumeHealingDecisionTest.standby;
import static io.toma.volume.VolumeHealingScenariosTest.firstOnline;
import static io.toma.volume.VolumeHealingScenariosTest.holdsMember;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.toma.topology.ControllerPlacement;
import io.toma.topology.ControllerRole;
import io.toma.topology.NodeFacts;
import io.toma.topology.VolumeState;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * A standby controller lost on its own (its node lost or drained, the active fine) is replaced
 * without a failover ({@link StandbyReplacement}), on the pure decider.
 */
class StandbyReplacementDecisionTest {

  static List<String> controllers(DeciderWorld w, ControllerRole role) {
    return w.record.placement().orElseThrow().controllers().stream().filter(c -> c.role() == role)
        .map(ControllerPlacement::nodeId).toList();
  }

  static String rackOf(DeciderWorld w, String node) {
    return w.node(node).rack();
  }

  @Test
  void a_standby_whose_node_is_lost_is_replaced_on_another_rack_and_the_active_is_not_touched() {
    DeciderWorld w = firstOnline("vol-sb", 1, 2, v -> !holdsMember(v, standby(v.record)));
    String active = w.active();
    String lost = standby(w.record);
    long epoch = w.record.epoch();
    w.deadNodes.add(lost);

    w.feed(new VolumeInput.NodeLost(lost, "downed"));

    assertTrue(w.record.healing().failover().isEmpty(), "no failover: the active is fine");
    assertEquals(active, w.active(), "the active stays where it was");
    assertEquals(epoch, w.record.epoch(), "no fencing epoch bump");
    List<String> standbys = controllers(w, ControllerRole.STANDBY);
    assertEquals(1, standbys.size(), "one standby again: " + standbys);
    String replacement = standbys.get(0);
    assertNotEquals(lost, replacement);
    assertNotEquals(active, replacement, "never on the active's node");
    assertNotEquals(rackOf(w, active), rackOf(w, replacement), "another rack than the active's");
    assertTrue(w.log.stream().noneMatch(l -> l.startsWith("applied " + active)),
        "the active was sent nothing new: " + w.log);
    assertTrue(w.log.stream().anyMatch(l -> l.startsWith("applied " + replacement)),
        "the new standby applied its export: " + w.log);
    assertTrue(w.record.draining().containsKey(lost), "the lost node is sent Remove should it come back");
    assertEquals(VolumeState.ONLINE, w.record.visibleState(), w.record.reason().orElse(""));
    assertEquals(w.record, w.replayed(), "a restart recovers the same volume");

    w.advance(Duration.ofSeconds(10));
    assertEquals(List.of(replacement), controllers(w, ControllerRole.STANDBY), "ticks place no second standby");
  }

  @Test
  void a_drained_standby_node_is_left_and_told_to_remove_the_volume_while_a_new_standby_is_placed() {
    DeciderWorld w = firstOnline("vol-sbd", 1, 2, v -> !holdsMember(v, standby(v.record)));
    String active = w.active();
    String drained = standby(w.record);

    w.feed(new VolumeInput.Drain(drained));

    assertEquals(active, w.active());
    assertTrue(w.record.healing().failover().isEmpty(), "no failover");
    List<String> standbys = controllers(w, ControllerRole.STANDBY);
    assertEquals(1, standbys.size());
    assertFalse(standbys.contains(drained), "the drained node holds no controller of the volume");
    assertTrue(w.log.stream().anyMatch(l -> l.startsWith("removed " + drained)),
        "the drained node removed the volume's export: " + w.log);
    assertFalse(w.record.draining().containsKey(drained), "its removal is confirmed");
    assertEquals(VolumeState.ONLINE, w.record.visibleState(), w.record.reason().orElse(""));
  }

  @Test
  void a_lost_converged_standby_gets_its_member_rebuilt_and_a_new_standby_and_the_volume_ends_online() {
    DeciderWorld w = firstOnline("vol-sbc", 1, 2, v -> holdsMember(v, standby(v.record)));
    String active = w.active();
    String lost = standby(w.record);
    w.deadNodes.add(lost);

    w.feed(new VolumeInput.NodeLost(lost, "downed"));
    assertEquals(1, w.record.healing().rebuilds().size(), "its member is rebuilt");
    reportInSync(w);
    w.advance(Duration.ofSeconds(2));

    assertEquals(active, w.active());
    assertTrue(w.record.healing().failover().isEmpty(), "no failover");
    List<String> standbys = controllers(w, ControllerRole.STANDBY);
    assertEquals(1, standbys.size());
    assertNotEquals(lost, standbys.get(0));
    assertTrue(w.record.placement().orElseThrow().nodes().stream().noneMatch(lost::equals),
        "nothing of the volume is left on the lost node");
    assertEquals(VolumeState.ONLINE, w.record.visibleState(), w.record.reason().orElse(""));
  }

  @Test
  void with_no_controller_node_left_the_volume_waits_and_places_the_standby_once_one_registers() {
    DeciderWorld w = firstOnline("vol-sbw", 1, 2, v -> !holdsMember(v, standby(v.record)));
    String active = w.active();
    String lost = standby(w.record);
    // every other node is cordoned: no candidate for a new standby
    List<NodeFacts> original = List.copyOf(w.nodes);
    w.nodes.replaceAll(n -> n.nodeId().equals(active) || n.nodeId().equals(lost) ? n : cordoned(n, true));
    w.deadNodes.add(lost);

    w.feed(new VolumeInput.NodeLost(lost, "downed"));
    assertTrue(controllers(w, ControllerRole.STANDBY).isEmpty(), "the lost standby left, none placed yet");
    assertTrue(VolumeDecider.needsTick(w.record), "the volume keeps ticking while a standby is missing");
    assertEquals(active, w.active());

    w.nodes.clear();
    w.nodes.addAll(original);
    w.advance(Duration.ofSeconds(2));
    assertEquals(1, controllers(w, ControllerRole.STANDBY).size(), "placed on the next tick");
    assertFalse(StandbyReplacement.pending(w.record), "nothing left for this rule to do");
  }

  static NodeFacts cordoned(NodeFacts n, boolean cordoned) {
    return new NodeFacts(n.nodeId(), n.roles(), n.zone(), n.rack(), n.fabricAddress(), n.hostNqn(), cordoned,
        n.hostedControllers(), n.lost());
  }
}
