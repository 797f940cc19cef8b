package io.toma.agent;

import static io.toma.kernel.fake.Fixtures.*;
import static org.junit.jupiter.api.Assertions.*;

import io.toma.agent.AgentProtocol.Applied;
import io.toma.agent.AgentProtocol.PlanRendered;
import io.toma.agent.AgentProtocol.Report;
import io.toma.kernel.DesiredState.AnaState;
import io.toma.kernel.fake.FakeKernel;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneId;
import java.time.ZoneOffset;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.apache.pekko.actor.testkit.typed.javadsl.ActorTestKit;
import org.apache.pekko.actor.testkit.typed.javadsl.TestProbe;
import org.apache.pekko.actor.typed.ActorRef;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The agent turns its controller exports inaccessible on its own when it loses the cluster. */
class SelfFencingAgentTest {
  private static final Duration WAIT = Duration.ofSeconds(10);
  private static final Duration NEVER = Duration.ofHours(1);

  private ActorTestKit testKit;
  @TempDir Path dataDir;
  private final AtomicLong now = new AtomicLong(1_000_000);

  /** Time moves only when the test says so. */
  private final Clock clock = new Clock() {
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
      return Instant.ofEpochMilli(now.get());
    }
  };

  /** A membership feed the test drives: it hands over the agent's inlet. */
  private static final class TestFeed implements MembershipFeed {
    final CompletableFuture<ActorRef<SelfFence.Membership>> inlet = new CompletableFuture<>();

    @Override
    public boolean start(org.apache.pekko.actor.typed.javadsl.ActorContext<Object> ctx,
        ActorRef<SelfFence.Membership> to) {
      inlet.complete(to);
      return true;
    }

    ActorRef<SelfFence.Membership> ref() throws Exception {
      return inlet.get(10, TimeUnit.SECONDS);
    }
  }

  @BeforeEach
  void start() {
    testKit = ActorTestKit.create();
  }

  @AfterEach
  void stop() {
    testKit.shutdownTestKit();
  }

  private NodeAgent.Settings settings() {
    return NodeAgent.Settings.of("ctrl-a", Set.of("controller"), "z1", "r1", "10.0.0.9", CONTROLLER_HOST,
            List.of(new NodeAgent.DiskSpec("d0", "/dev/nullb0")), dataDir)
        .withIntervals(NEVER, NEVER, Duration.ofSeconds(10))
        .withClock(clock)
        .withSelfFenceTimeout(Duration.ofSeconds(3));
  }

  private Report apply(ActorRef<AgentProtocol.Command> agent, long revision) {
    TestProbe<Report> reply = testKit.createTestProbe(Report.class);
    agent.tell(new AgentProtocol.Apply("vol1", revision, controller("vol1", AnaState.OPTIMIZED), reply.ref()));
    return reply.receiveMessage(WAIT);
  }

  private void awaitAna(FakeKernel kernel, AnaState expected) {
    testKit.createTestProbe().awaitAssert(WAIT, () -> {
      assertEquals(expected, kernel.read().ports().get(2).anaGroups().get(2));
      return null;
    });
  }

  /** The plan is answered after every message sent before it: what a reconcile would change now. */
  private String plan(ActorRef<AgentProtocol.Command> agent) {
    TestProbe<PlanRendered> plan = testKit.createTestProbe(PlanRendered.class);
    agent.tell(new AgentProtocol.RenderPlan(plan.ref()));
    return plan.receiveMessage(WAIT).script();
  }

  @Test
  void a_controller_cut_off_from_the_majority_past_the_timeout_fences_and_waits_for_a_newer_revision() throws Exception {
    FakeKernel kernel = controllerKernel("vol1");
    TestFeed feed = new TestFeed();
    ActorRef<AgentProtocol.Command> agent = testKit.spawn(NodeAgent.create(settings(), kernel, feed));
    feed.ref().tell(new SelfFence.Membership(3, 3, false));
    assertEquals(new Applied("ctrl-a", "vol1", 1), apply(agent, 1));
    assertEquals(AnaState.OPTIMIZED, kernel.read().ports().get(2).anaGroups().get(2));

    feed.ref().tell(new SelfFence.Membership(1, 3, false)); // partitioned: sees itself only
    plan(agent); // the agent has seen it (at this instant) before time moves
    now.addAndGet(2_999);
    feed.ref().tell(new SelfFence.Membership(1, 3, false));
    assertTrue(plan(agent).contains(": 0 operations"), "not yet: the timeout has not passed");
    assertEquals(AnaState.OPTIMIZED, kernel.read().ports().get(2).anaGroups().get(2));

    plan(agent);
    now.addAndGet(1);
    feed.ref().tell(new SelfFence.Membership(1, 3, false));
    awaitAna(kernel, AnaState.INACCESSIBLE);

    feed.ref().tell(new SelfFence.Membership(3, 3, false)); // the partition heals
    assertEquals(new Applied("ctrl-a", "vol1", 1), apply(agent, 1)); // an old revision: not a reinstatement
    assertTrue(plan(agent).contains(": 0 operations"), "still fenced: the stored state was not changed back");
    assertEquals(AnaState.INACCESSIBLE, kernel.read().ports().get(2).anaGroups().get(2));

    assertEquals(new Applied("ctrl-a", "vol1", 2), apply(agent, 2));
    awaitAna(kernel, AnaState.OPTIMIZED);
  }

  @Test
  void a_fenced_agent_that_sees_a_majority_again_registers_again_and_only_the_new_revision_it_is_given_unfences_it()
      throws Exception {
    TestProbe<Report> sink = testKit.createTestProbe(Report.class);
    testKit.system().receptionist().tell(
        org.apache.pekko.actor.typed.receptionist.Receptionist.register(AgentProtocol.REPORTS, sink.ref()));
    FakeKernel kernel = controllerKernel("vol1");
    TestFeed feed = new TestFeed();
    ActorRef<AgentProtocol.Command> agent = testKit.spawn(NodeAgent.create(settings(), kernel, feed));
    feed.ref().tell(new SelfFence.Membership(3, 3, false));
    sink.fishForMessage(WAIT, r -> r instanceof AgentProtocol.NodeRegistered
        ? org.apache.pekko.actor.testkit.typed.javadsl.FishingOutcomes.complete()
        : org.apache.pekko.actor.testkit.typed.javadsl.FishingOutcomes.continueAndIgnore());
    assertEquals(new Applied("ctrl-a", "vol1", 1), apply(agent, 1));

    feed.ref().tell(new SelfFence.Membership(1, 3, true)); // downed
    awaitAna(kernel, AnaState.INACCESSIBLE);
    feed.ref().tell(new SelfFence.Membership(3, 3, false)); // back with the majority
    sink.fishForMessage(WAIT, r -> r instanceof AgentProtocol.NodeRegistered reg && reg.fenced()
        ? org.apache.pekko.actor.testkit.typed.javadsl.FishingOutcomes.complete()
        : org.apache.pekko.actor.testkit.typed.javadsl.FishingOutcomes.continueAndIgnore());

    assertEquals(new Applied("ctrl-a", "vol1", 1), apply(agent, 1)); // the replay the manager used to send
    assertTrue(plan(agent).contains(": 0 operations"), "a replay of the fenced revision never unfences");
    assertEquals(AnaState.INACCESSIBLE, kernel.read().ports().get(2).anaGroups().get(2));
    assertEquals(new Applied("ctrl-a", "vol1", 2), apply(agent, 2)); // what the manager now sends on registration
    awaitAna(kernel, AnaState.OPTIMIZED);
  }

  @Test
  void a_newer_revision_received_while_still_cut_off_does_not_lift_the_fence() throws Exception {
    FakeKernel kernel = controllerKernel("vol1");
    TestFeed feed = new TestFeed();
    ActorRef<AgentProtocol.Command> agent = testKit.spawn(NodeAgent.create(settings(), kernel, feed));
    apply(agent, 1);
    feed.ref().tell(new SelfFence.Membership(3, 3, true)); // downed by the cluster: no waiting
    awaitAna(kernel, AnaState.INACCESSIBLE);

    apply(agent, 2);
    assertTrue(plan(agent).contains(": 0 operations"));
    assertEquals(AnaState.INACCESSIBLE, kernel.read().ports().get(2).anaGroups().get(2));
  }

  @Test
  void an_agent_restarted_in_a_cluster_comes_up_fenced_until_the_manager_sends_a_state() throws Exception {
    FakeKernel kernel = controllerKernel("vol1");
    TestFeed first = new TestFeed();
    ActorRef<AgentProtocol.Command> agent = testKit.spawn(NodeAgent.create(settings(), kernel, first));
    first.ref().tell(new SelfFence.Membership(3, 3, false));
    apply(agent, 1);
    testKit.stop(agent, WAIT);

    TestFeed second = new TestFeed();
    ActorRef<AgentProtocol.Command> again = testKit.spawn(NodeAgent.create(settings(), kernel, second));
    second.ref().tell(new SelfFence.Membership(3, 3, false));
    awaitAna(kernel, AnaState.INACCESSIBLE);

    assertEquals(new Applied("ctrl-a", "vol1", 1), apply(again, 1)); // the manager sends its state again
    awaitAna(kernel, AnaState.OPTIMIZED);
  }

  @Test
  void an_agent_in_a_system_without_cluster_never_fences_even_after_a_restart() {
    FakeKernel before = controllerKernel("vol1");
    ActorRef<AgentProtocol.Command> agent = testKit.spawn(NodeAgent.create(settings(), before));
    apply(agent, 1);
    testKit.stop(agent, WAIT);

    FakeKernel rebooted = controllerKernel("vol1"); // an empty kernel: the agent rebuilds it from its store
    testKit.spawn(NodeAgent.create(settings(), rebooted));
    testKit.createTestProbe().awaitAssert(WAIT, () -> {
      assertTrue(rebooted.read().ports().containsKey(2));
      assertTrue(rebooted.read().ports().get(2).subsystems().contains(volumeNqn("vol1")));
      return null;
    });
    assertEquals(AnaState.OPTIMIZED, rebooted.read().ports().get(2).anaGroups().get(2));
  }

  @Test
  void the_self_fence_timeout_must_be_shorter_than_the_host_io_timeout() {
    assertEquals(List.of(), SelfFence.checkTimeouts(Duration.ofSeconds(3), Duration.ofSeconds(30)));
    assertEquals(1, SelfFence.checkTimeouts(Duration.ofSeconds(30), Duration.ofSeconds(30)).size());
    assertTrue(NodeAgent.Settings.of("n", Set.of(), "z", "r", "10.0.0.1", CONTROLLER_HOST, List.of(), Path.of("x"))
        .selfFenceTimeout().compareTo(Duration.ofSeconds(3)) <= 0);
  }
}
