package io.toma.agent;

import static io.toma.kernel.fake.Fixtures.*;
import static org.junit.jupiter.api.Assertions.*;

import io.toma.kernel.DesiredState;
import io.toma.kernel.DesiredState.AnaState;
import io.toma.kernel.DesiredState.NvmetPort;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class SelfFenceTest {
  private static final Duration TIMEOUT = Duration.ofSeconds(3);

  @Test
  void a_node_that_sees_a_majority_keeps_serving_and_a_lost_one_fences_only_after_the_timeout() {
    SelfFence.Membership cut = new SelfFence.Membership(2, 5, false);
    SelfFence.Step first = SelfFence.observe(SelfFence.State.serving(), cut, 0, TIMEOUT, Map.of("v", 4L));
    assertInstanceOf(SelfFence.KeepServing.class, first.decision());
    SelfFence.Step later = SelfFence.observe(first.state(), cut, 3_000, TIMEOUT, Map.of("v", 4L));
    assertInstanceOf(SelfFence.FenceNow.class, later.decision());
    assertEquals(Map.of("v", 4L), later.state().revisionsAtFence());

    SelfFence.Step healed = SelfFence.observe(first.state(), new SelfFence.Membership(3, 5, false), 2_000, TIMEOUT,
        Map.of());
    assertEquals(SelfFence.State.serving(), healed.state(), "a majority seen again resets the count");
  }

  @Test
  void only_a_newer_revision_seen_with_a_majority_reinstates_a_fenced_node() {
    SelfFence.State fenced = SelfFence.observe(SelfFence.State.serving(), new SelfFence.Membership(3, 3, true), 0,
        TIMEOUT, Map.of("v", 4L)).state();
    assertTrue(fenced.fenced());
    assertInstanceOf(SelfFence.StayFenced.class, SelfFence.stateReceived(fenced, "v", 5).decision(),
        "downed: no majority in sight yet");
    SelfFence.State sees = SelfFence.observe(fenced, new SelfFence.Membership(3, 3, false), 10, TIMEOUT, Map.of()).state();
    assertInstanceOf(SelfFence.StayFenced.class, SelfFence.stateReceived(sees, "v", 4).decision());
    assertInstanceOf(SelfFence.Reinstate.class, SelfFence.stateReceived(sees, "v", 5).decision());
  }

  @Test
  void a_newer_revision_of_one_volume_lifts_only_that_volumes_fence() {
    SelfFence.State fenced = SelfFence.observe(SelfFence.State.serving(), new SelfFence.Membership(3, 3, true), 0,
        TIMEOUT, Map.of("a", 4L, "b", 7L)).state();
    SelfFence.State sees = SelfFence.observe(fenced, new SelfFence.Membership(3, 3, false), 10, TIMEOUT,
        Map.of("a", 4L, "b", 7L)).state();

    SelfFence.Step a = SelfFence.stateReceived(sees, "a", 5);
    assertInstanceOf(SelfFence.Reinstate.class, a.decision());
    assertFalse(a.state().fences("a"));
    assertTrue(a.state().fences("b"), "b's failover may still be under way: a's new revision says nothing of it");
    assertInstanceOf(SelfFence.StayFenced.class, SelfFence.stateReceived(a.state(), "b", 7).decision());

    SelfFence.Step b = SelfFence.stateReceived(a.state(), "b", 8);
    assertEquals(SelfFence.State.serving(), b.state(), "every volume reinstated: the node serves again");
  }

  @Test
  void a_node_cut_off_again_while_its_fence_is_lifted_volume_by_volume_fences_every_volume_at_once() {
    SelfFence.State fenced = SelfFence.observe(SelfFence.State.serving(), new SelfFence.Membership(3, 3, true), 0,
        TIMEOUT, Map.of("a", 4L, "b", 7L)).state();
    SelfFence.State sees = SelfFence.observe(fenced, new SelfFence.Membership(3, 3, false), 10, TIMEOUT,
        Map.of("a", 4L, "b", 7L)).state();
    SelfFence.State partly = SelfFence.stateReceived(sees, "a", 5).state();

    SelfFence.Step cut = SelfFence.observe(partly, new SelfFence.Membership(1, 3, false), 20, TIMEOUT,
        Map.of("a", 5L, "b", 7L));
    assertInstanceOf(SelfFence.FenceNow.class, cut.decision());
    assertTrue(cut.state().fences("a") && cut.state().fences("b"));
    assertEquals(5L, cut.state().revisionsAtFence().get("a"), "a needs a revision newer than the one it served");
  }

  @Test
  void a_volume_removed_from_a_fenced_node_leaves_nothing_fenced_behind() {
    SelfFence.State fenced = SelfFence.observe(SelfFence.State.serving(), new SelfFence.Membership(3, 3, true), 0,
        TIMEOUT, Map.of("a", 4L)).state();
    SelfFence.State sees = SelfFence.observe(fenced, new SelfFence.Membership(3, 3, false), 10, TIMEOUT,
        Map.of("a", 4L)).state();
    assertEquals(SelfFence.State.serving(), SelfFence.volumeRemoved(sees, "a"));
  }

  @Test
  void a_restarted_node_serves_each_volume_again_once_the_manager_sends_its_state() {
    SelfFence.State restarted = SelfFence.State.restarted(java.util.Set.of("a", "b"));
    assertTrue(restarted.fences("a") && restarted.fences("b"));
    SelfFence.State one = SelfFence.stateReceived(restarted, "a", 1).state();
    assertFalse(one.fences("a"));
    assertTrue(one.fences("b"));
  }

  @Test
  void fencing_a_converged_node_makes_its_controller_export_inaccessible_and_leaves_its_slice_export_alone() {
    DesiredState disk = diskNode("vol1", 262144);
    DesiredState ctrl = controller("vol1", AnaState.OPTIMIZED);
    NvmetPort slicePort = new NvmetPort(1, "tcp", "ipv4", "10.0.0.1", 4420, Map.of(1, AnaState.OPTIMIZED),
        disk.ports().get(0).subsystems());
    List<DesiredState.DmDevice> dm = new java.util.ArrayList<>(ctrl.dmDevices());
    dm.addAll(disk.dmDevices());
    List<DesiredState.NvmetSubsystem> subs = new java.util.ArrayList<>(ctrl.subsystems());
    subs.addAll(disk.subsystems());
    DesiredState converged = new DesiredState("vol1", 1, dm, subs, List.of(slicePort, ctrl.ports().get(0)),
        ctrl.connections());

    DesiredState fenced = SelfFence.fencedView(Map.of("vol1", converged)).get("vol1");

    assertEquals(Map.of(1, AnaState.OPTIMIZED), fenced.ports().get(0).anaGroups());
    assertEquals(Map.of(2, AnaState.INACCESSIBLE), fenced.ports().get(1).anaGroups());
    assertEquals(converged.dmDevices(), fenced.dmDevices());
  }
}
