package io.toma.agent;

import static io.toma.kernel.fake.Fixtures.*;
import static org.junit.jupiter.api.Assertions.*;

import io.toma.agent.AgentProtocol.Applied;
import io.toma.agent.AgentProtocol.ApplyFailed;
import io.toma.agent.AgentProtocol.DiskLost;
import io.toma.agent.AgentProtocol.NodeRegistered;
import io.toma.agent.AgentProtocol.NodeStatus;
import io.toma.agent.AgentProtocol.PlanRendered;
import io.toma.agent.AgentProtocol.Removed;
import io.toma.agent.AgentProtocol.Report;
import io.toma.agent.DesiredStore.StoredVolume;
import io.toma.kernel.DesiredState;
import io.toma.kernel.DesiredState.AnaState;
import io.toma.kernel.DesiredState.DmDevice;
import io.toma.kernel.KernelOp;
import io.toma.kernel.KernelState;
import io.toma.kernel.fake.FakeKernel;
import io.toma.kernel.reconcile.Reconciler;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeSet;
import org.apache.pekko.actor.testkit.typed.javadsl.ActorTestKit;
import org.apache.pekko.actor.testkit.typed.javadsl.FishingOutcomes;
import org.apache.pekko.actor.testkit.typed.javadsl.TestProbe;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.receptionist.Receptionist;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class NodeAgentTest {
  private static final Duration WAIT = Duration.ofSeconds(10);
  private static final Duration NEVER = Duration.ofHours(1);

  private ActorTestKit testKit;
  private TestProbe<Report> reports;
  @TempDir Path dataDir;

  @BeforeEach
  void cluster() {
    // one actor system per test: agents of one test must not report to another test's sink
    testKit = ActorTestKit.create();
    reports = testKit.createTestProbe(Report.class);
    testKit.system().receptionist().tell(Receptionist.register(AgentProtocol.REPORTS, reports.ref()));
  }

  @AfterEach
  void shutdown() {
    testKit.shutdownTestKit();
  }

  private NodeAgent.Settings settings(Duration watch) {
    return NodeAgent.Settings.of("node-1", Set.of("disk", "controller"), "z1", "r1", "10.0.0.1", CONTROLLER_HOST,
            List.of(new NodeAgent.DiskSpec("d0", "/dev/nullb0"), new NodeAgent.DiskSpec("d1", "/dev/nullb1")), dataDir)
        .withIntervals(NEVER, watch, Duration.ofSeconds(10));
  }

  private ActorRef<AgentProtocol.Command> agent(FakeKernel kernel) {
    return testKit.spawn(NodeAgent.create(settings(NEVER), kernel));
  }

  private <T extends Report> T expectReport(Class<T> type) {
    List<Report> got = reports.fishForMessage(WAIT, "a " + type.getSimpleName(),
        m -> type.isInstance(m) ? FishingOutcomes.complete() : FishingOutcomes.continueAndIgnore());
    return type.cast(got.get(got.size() - 1));
  }

  private Report apply(ActorRef<AgentProtocol.Command> agent, String volume, long revision, DesiredState d) {
    TestProbe<Report> reply = testKit.createTestProbe(Report.class);
    agent.tell(new AgentProtocol.Apply(volume, revision, d, reply.ref()));
    return reply.receiveMessage(WAIT);
  }

  @Test
  void an_agent_registers_with_the_receptionist_and_announces_its_node_and_disks() {
    ActorRef<AgentProtocol.Command> agent = agent(new FakeKernel(DISKS));
    NodeRegistered registered = expectReport(NodeRegistered.class);
    assertEquals("node-1", registered.nodeId());
    assertEquals("r1", registered.rack());
    assertEquals(CONTROLLER_HOST, registered.hostNqn());
    assertEquals(2, registered.disks().size());
    assertTrue(registered.disks().get(0).healthy());
    assertEquals(agent, registered.agent());

    TestProbe<Receptionist.Listing> listing = testKit.createTestProbe(Receptionist.Listing.class);
    listing.awaitAssert(WAIT, () -> {
      testKit.system().receptionist().tell(Receptionist.find(AgentProtocol.agentKey("node-1"), listing.ref()));
      assertEquals(Set.of(agent), listing.receiveMessage(WAIT).getServiceInstances(AgentProtocol.agentKey("node-1")));
      return null;
    });
  }

  @Test
  void an_apply_is_reported_applied_and_applying_it_again_touches_nothing() {
    FakeKernel kernel = new FakeKernel(DISKS);
    ActorRef<AgentProtocol.Command> agent = agent(kernel);
    assertEquals(new Applied("node-1", "vol1", 1), apply(agent, "vol1", 1, diskNode("vol1", 1000)));
    assertTrue(kernel.read().dmDevices().containsKey("toma-vol1-m0"));
    int opsAfterFirst = kernel.log().size();

    assertEquals(new Applied("node-1", "vol1", 1), apply(agent, "vol1", 1, diskNode("vol1", 1000)));
    assertEquals(opsAfterFirst, kernel.log().size(), "a repeated apply runs no kernel operation");
    assertTrue(Files.exists(dataDir.resolve("volumes/vol1.json")), "the desired state is on the node's disk");
  }

  @Test
  void an_older_revision_is_answered_with_the_revision_held_and_not_applied() {
    FakeKernel kernel = new FakeKernel(DISKS);
    ActorRef<AgentProtocol.Command> agent = agent(kernel);
    assertEquals(new Applied("node-1", "vol1", 5), apply(agent, "vol1", 5, diskNode("vol1", 2000)));
    assertEquals(new Applied("node-1", "vol1", 5), apply(agent, "vol1", 4, diskNode("vol1", 1000)));
    assertEquals(2000, kernel.read().dmDevices().get("toma-vol1-m0").table().get(0).length());
  }

  @Test
  void a_desired_state_with_a_bad_name_is_refused_and_nothing_is_applied_or_stored() {
    FakeKernel kernel = new FakeKernel(DISKS);
    ActorRef<AgentProtocol.Command> agent = agent(kernel);
    DesiredState good = diskNode("vol1", 1000);
    DesiredState bad = new DesiredState("vol1", 1,
        List.of(good.dmDevices().get(0), new DmDevice("toma-x", List.of(line(8, "linear", "/dev/../../etc/shadow 0")))),
        good.subsystems(), good.ports(), good.connections());
    Report answer = apply(agent, "vol1", 1, bad);
    assertInstanceOf(ApplyFailed.class, answer);
    assertTrue(((ApplyFailed) answer).error().contains("invalid"), answer.toString());
    assertEquals(List.of(), kernel.log());
    assertFalse(Files.exists(dataDir.resolve("volumes/vol1.json")));
  }

  @Test
  void an_agent_killed_in_the_middle_of_an_apply_converges_after_restart() {
    FakeKernel kernel = controllerKernel("vol1");
    DesiredState desired = controller("vol1", AnaState.OPTIMIZED);
    kernel.failAtCall(6); // the kernel half-done: two connects and three dm devices, then the crash
    ActorRef<AgentProtocol.Command> first = agent(kernel);
    assertInstanceOf(ApplyFailed.class, apply(first, "vol1", 3, desired));
    assertEquals(5, kernel.log().size());
    testKit.stop(first, WAIT);

    ActorRef<AgentProtocol.Command> second = agent(kernel);
    Applied applied = expectReport(Applied.class);
    assertEquals(new Applied("node-1", "vol1", 3), applied);

    FakeKernel reference = controllerKernel("vol1");
    try {
      for (KernelOp op : Reconciler.diff(Map.of("vol1", desired), reference.read(), DISKS)) {
        reference.apply(op);
      }
    } catch (Exception e) {
      fail(e);
    }
    KernelState got = kernel.read();
    KernelState want = reference.read();
    assertEquals(want.dmDevices().keySet(), got.dmDevices().keySet());
    assertEquals(want.subsystems().keySet(), got.subsystems().keySet());
    assertEquals(want.ports(), got.ports());
    assertEquals(want.hosts(), got.hosts());
    assertEquals(2, got.controllers().size());

    int ops = kernel.log().size();
    assertEquals(new Applied("node-1", "vol1", 3), apply(second, "vol1", 3, desired));
    assertEquals(ops, kernel.log().size());
  }

  @Test
  void on_restart_the_agent_collects_only_orphaned_toma_objects_once_its_store_is_loaded() throws Exception {
    FakeKernel kernel = new FakeKernel(DISKS);
    // the kernel holds vol1 (still wanted), vol9 (removed while the agent was down) and foreign objects
    DesiredState vol9 = new DesiredState("vol9", 1,
        List.of(new DmDevice("toma-vol9-m0", List.of(line(100, "linear", "@disk:d1 0")))),
        List.of(), List.of(), List.of());
    for (KernelOp op : Reconciler.diff(Map.of("vol1", diskNode("vol1", 1000), "vol9", vol9), kernel.read(), DISKS)) {
      kernel.apply(op);
    }
    kernel.applyForeign(new KernelOp.DmCreate("vg0-root", List.of(line(100, "linear", "/dev/nullb1 100"))));
    new DesiredStore(dataDir).save(new StoredVolume("vol1", 2, Optional.of(diskNode("vol1", 1000))));

    agent(kernel);
    assertEquals(new Applied("node-1", "vol1", 2), expectReport(Applied.class));
    assertEquals(new TreeSet<>(List.of("toma-vol1-m0", "vg0-root")), new TreeSet<>(kernel.read().dmDevices().keySet()));
    assertEquals(List.of(new KernelOp.DmRemove("toma-vol9-m0")),
        kernel.log().subList(kernel.log().size() - 1, kernel.log().size()));
  }

  @Test
  void a_report_sink_that_appears_after_an_apply_still_hears_the_revision_the_node_holds() {
    FakeKernel kernel = new FakeKernel(DISKS);
    ActorRef<AgentProtocol.Command> agent = agent(kernel);
    assertEquals(new Applied("node-1", "vol1", 3), apply(agent, "vol1", 3, diskNode("vol1", 1000)));
    // a manager that starts (or restarts) now registers its sink: it must learn what is applied
    TestProbe<Report> late = testKit.createTestProbe(Report.class);
    testKit.system().receptionist().tell(Receptionist.register(AgentProtocol.REPORTS, late.ref()));
    List<Report> got = late.fishForMessage(WAIT, "the held revision",
        m -> m.equals(new Applied("node-1", "vol1", 3)) ? FishingOutcomes.complete()
            : m instanceof NodeRegistered ? FishingOutcomes.continueAndCollect() : FishingOutcomes.continueAndIgnore());
    assertTrue(got.stream().anyMatch(NodeRegistered.class::isInstance), "the late sink also hears who the node is: " + got);
  }

  @Test
  void a_removed_volume_leaves_the_kernel_and_a_late_older_apply_does_not_bring_it_back() {
    FakeKernel kernel = new FakeKernel(DISKS);
    ActorRef<AgentProtocol.Command> agent = agent(kernel);
    apply(agent, "vol1", 1, diskNode("vol1", 1000));
    TestProbe<Report> reply = testKit.createTestProbe(Report.class);
    agent.tell(new AgentProtocol.Remove("vol1", 2, reply.ref()));
    assertEquals(new Removed("node-1", "vol1", 2), reply.receiveMessage(WAIT));
    KernelState after = kernel.read();
    assertTrue(after.dmDevices().isEmpty() && after.subsystems().isEmpty() && after.ports().isEmpty(), after.toString());

    assertEquals(new Removed("node-1", "vol1", 2), apply(agent, "vol1", 1, diskNode("vol1", 1000)));
    assertTrue(kernel.read().dmDevices().isEmpty());
  }

  @Test
  void the_plan_shows_what_a_reconcile_would_do_to_heal_drift() throws Exception {
    FakeKernel kernel = new FakeKernel(DISKS);
    ActorRef<AgentProtocol.Command> agent = agent(kernel);
    apply(agent, "vol1", 1, diskNode("vol1", 1000));
    kernel.applyForeign(new KernelOp.PortUnlinkSubsystem(1, sliceNqn("vol1", "m0")));

    TestProbe<PlanRendered> plan = testKit.createTestProbe(PlanRendered.class);
    agent.tell(new AgentProtocol.RenderPlan(plan.ref()));
    PlanRendered rendered = plan.receiveMessage(WAIT);
    assertEquals("node-1", rendered.nodeId());
    assertTrue(rendered.script().contains("# Toma plan for node node-1: 1 operation\n"), rendered.script());
    assertTrue(rendered.script().contains("ln -s \"$NVMET\"/subsystems/'" + sliceNqn("vol1", "m0")
        + "' \"$NVMET\"/ports/1/subsystems/'" + sliceNqn("vol1", "m0") + "'"), rendered.script());
  }

  @Test
  void the_node_status_shows_disks_and_applied_revisions() {
    ActorRef<AgentProtocol.Command> agent = agent(new FakeKernel(DISKS));
    apply(agent, "vol1", 4, diskNode("vol1", 1000));
    TestProbe<NodeStatus> status = testKit.createTestProbe(NodeStatus.class);
    agent.tell(new AgentProtocol.GetNodeStatus(status.ref()));
    NodeStatus s = status.receiveMessage(WAIT);
    assertEquals(List.of(new AgentProtocol.VolumeRevision("vol1", 4, true, "")), s.volumes());
    assertEquals(2, s.disks().size());
  }

  @Test
  void a_disk_that_disappears_is_reported_lost_by_the_watcher() {
    FakeKernel kernel = new FakeKernel(DISKS);
    testKit.spawn(NodeAgent.create(settings(Duration.ofMillis(50)), kernel));
    expectReport(NodeRegistered.class);
    kernel.diskDies("/dev/nullb1");
    DiskLost lost = expectReport(DiskLost.class);
    assertEquals("d1", lost.diskId());
    assertEquals("node-1", lost.nodeId());
  }

  @Test
  void a_raid1_member_marked_dead_is_reported_with_its_volume() {
    FakeKernel kernel = controllerKernel("vol1");
    ActorRef<AgentProtocol.Command> agent = testKit.spawn(NodeAgent.create(settings(Duration.ofMillis(50)), kernel));
    apply(agent, "vol1", 1, controller("vol1", AnaState.OPTIMIZED));
    kernel.setStatus("toma-vol1-leg0", "0 253952 raid raid1 2 DA 253952/253952 idle 0 0 -");
    List<Report> got = reports.fishForMessage(WAIT, "a dead member",
        m -> m instanceof AgentProtocol.RaidMemberStatus r && r.health().equals("DA")
            ? FishingOutcomes.complete() : FishingOutcomes.continueAndIgnore());
    AgentProtocol.RaidMemberStatus status = (AgentProtocol.RaidMemberStatus) got.get(got.size() - 1);
    assertEquals("vol1", status.volumeId());
    assertEquals("toma-vol1-leg0", status.dmName());
  }

  @Test
  void drift_in_the_kernel_is_healed_by_the_periodic_reconcile() throws Exception {
    FakeKernel kernel = new FakeKernel(DISKS);
    NodeAgent.Settings fast = settings(NEVER).withIntervals(Duration.ofMillis(100), NEVER, Duration.ofSeconds(10));
    ActorRef<AgentProtocol.Command> agent = testKit.spawn(NodeAgent.create(fast, kernel));
    apply(agent, "vol1", 1, diskNode("vol1", 1000));
    kernel.applyForeign(new KernelOp.PortUnlinkSubsystem(1, sliceNqn("vol1", "m0")));
    reports.awaitAssert(WAIT, () -> {
      assertTrue(kernel.read().ports().get(1).subsystems().contains(sliceNqn("vol1", "m0")));
      return null;
    });
  }
}
