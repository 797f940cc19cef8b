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
