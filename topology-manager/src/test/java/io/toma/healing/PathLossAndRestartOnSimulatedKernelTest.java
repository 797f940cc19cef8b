package io.toma.healing;

import static io.toma.testing.TestTopology.ok;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.toma.kernel.DesiredState;
import io.toma.kernel.KernelState;
import io.toma.kernel.sim.IoResult;
import io.toma.kernel.sim.SimCluster;
import io.toma.kernel.sim.SimHost;
import io.toma.kernel.sim.SimNode;
import io.toma.testing.SimulatedKernelCluster;
import io.toma.testing.TestTopology;
import io.toma.topology.FailureDomainLevel;
import io.toma.topology.Layout;
import io.toma.topology.TomaEvent;
import io.toma.topology.VolumeSpec;
import io.toma.topology.VolumeView;
import io.toma.volume.VirtualDisk;
import io.toma.volume.VolumeRecord;
import org.apache.pekko.persistence.journal.Tagged;
import org.apache.pekko.persistence.testkit.JournalOperation;
import org.apache.pekko.persistence.testkit.ProcessingPolicy;
import org.apache.pekko.persistence.testkit.ProcessingResult;
import org.apache.pekko.persistence.testkit.ProcessingSuccess$;
import org.apache.pekko.persistence.testkit.StorageFailure;
import org.apache.pekko.persistence.testkit.WriteEvents;
import org.apache.pekko.persistence.testkit.javadsl.PersistenceTestKit;
import org.apache.pekko.persistence.typed.PersistenceId;
import io.toma.volume.VolumeNames;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.stream.Collectors;
import org.apache.pekko.actor.testkit.typed.javadsl.TestProbe;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;

/**
 * Link loss, an unreachable controller and a volume entity dying mid-repair, end to end: real
 * NodeAgents over the simulated kernels of a simulated kernels ({@link SimulatedKernelCluster}; 3 racks, each with a disk node rNd
 * and a controller node rNc), the topology manager in one actor system, a
 * simulated host writing and verifying through the volume.
 *
 * <p>Two grace windows stack, as in production: the agents' path watcher (here 3 s of simulated
 * time: the agents read the simulated clock, so a flap's length is exact) and the detector's
 * {@code grace-window} (here 5 s of wall time: long enough for a member raid1 marked failed to be
 * re-added and start its resync on a loaded 2-core machine, where reports come every half second).
 *
 * <p>The link-cut rebuild runs last: a volume created after it may be granted an extent its
 * rebuild released, and the simulated kernel (like dm-raid) refuses a raid over a metadata device
 * that still holds another set's superblock (a known gap: new slices are not wiped yet).
 *
 * <p>A "manager restart" here is the volume's entity dying on a journal write failure (the
 * persistence testkit's policy) in the middle of a step, its memory gone, its journal kept: nothing
 * but the repair roster's waker starts it again, and it resumes from what it had persisted.
 */
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class PathLossAndRestartOnSimulatedKernelTest {

  static final long MIB = 1L << 20;
  static final Duration PATH_GRACE = Duration.ofSeconds(3);
  static final HealingSettings HEALING = HealingSettings.defaults().withGraceWindow(Duration.ofSeconds(5))
      .withControllerFailoverConfirm(Duration.ofMillis(500));
  static final SimulatedKernelCluster c = SimulatedKernelCluster.named("PathLossAndRestartOnSimulatedKernelTest",
      new HealingSettings(HEALING.graceWindow(), Duration.ofMillis(500), HEALING.fenceConfirmTimeout(),
          HEALING.selfFenceTimeout(), HEALING.hostIoTimeout(), 2, 4, HEALING.controllerFailoverConfirm()),
      PATH_GRACE);
  static final TestTopology topology = c.topology;
  static final SimCluster cluster = c.cluster;
  static final Map<String, SimNode> nodes = c.nodes;
  static final ConcurrentLinkedQueue<TomaEvent> events = c.events;

  static {
    for (int r = 1; r <= 3; r++) {
      c.node("r" + r + "d", "rack" + r, "10.1." + r + ".1", Set.of("disk"));
      c.node("r" + r + "c", "rack" + r, "10.1." + r + ".2", Set.of("controller"));
    }
    c.start();
  }

  @AfterAll
  static void shutdown() {
    c.close();
  }

  // ---- helpers ----

  static VolumeView awaitView(String volume, String why, java.util.function.Predicate<VolumeView> done) {
    TestProbe<Object> probe = topology.testKit.createTestProbe();
    return probe.awaitAssert(Duration.ofSeconds(90), Duration.ofMillis(100), () -> {
      cluster.advance(Duration.ofMillis(200));
      VolumeView v = ok(topology.service.getVolume(volume));
      assertTrue(done.test(v), why + "; now " + v.state() + " (" + v.reason() + ") " + v.legs());
      return v;
    });
  }

  static byte[] block(int i) {
    byte[] b = new byte[4096];
    java.util.Arrays.fill(b, (byte) (i * 11 + 3));
    return b;
  }

  static void write(SimHost host, String nqn, int i) {
    IoResult r = host.write(nqn, (long) i * 4096, block(i));
    for (int tries = 0; r instanceof IoResult.Retry && tries < 200; tries++) {
      cluster.advance(Duration.ofMillis(50));
      r = host.write(nqn, (long) i * 4096, block(i));
    }
    assertInstanceOf(IoResult.Ok.class, r, "write " + i + ": " + r);
  }

  static void verify(SimHost host, String nqn, int count) {
    for (int i = 0; i < count; i++) {
      IoResult r = host.read(nqn, (long) i * 4096, 4096);
      for (int tries = 0; r instanceof IoResult.Retry && tries < 200; tries++) {
        cluster.advance(Duration.ofMillis(50));
        r = host.read(nqn, (long) i * 4096, 4096);
      }
      IoResult.Ok ok = assertInstanceOf(IoResult.Ok.class, r, "read " + i + ": " + r);
      assertArrayEquals(block(i), ok.data(), "block " + i + " reads back as written");
    }
  }

  record Online(VolumeView view, SimHost host, String nqn) {}

  static Online onlineVolume(String id, int legs, String hostId) throws Exception {
    String hostNqn = "nqn.2026-11.io.toma:host:" + hostId;
    ok(topology.service.createVolume(new VolumeSpec(id, 32 * MIB, Layout.of(legs, 2, 1, FailureDomainLevel.RACK))));
    ok(topology.service.attach(id, hostNqn));
    VolumeView view = awaitView(id, "the volume Online", v -> v.state().equals("Online"));
    String nqn = VolumeNames.volumeNqn(id);
    SimHost host = cluster.addHost(hostId, "10.9.1." + (hostId.hashCode() & 0x7f), hostNqn);
    for (VolumeView.ControllerView c : view.controllers()) {
      KernelState k = nodes.get(c.node()).kernel().read();
      int port = k.ports().values().stream().filter(p -> p.subsystems().contains(nqn)).findFirst().orElseThrow()
          .serviceId();
      host.connect(nqn, nodes.get(c.node()).fabricAddress(), port);
    }
    return new Online(view, host, nqn);
  }

  static String controller(VolumeView v, String role) {
    return v.controllers().stream().filter(c -> c.role().equals(role)).findFirst().orElseThrow().node();
  }

  static List<String> steps(String volume) {
    return events.stream().filter(e -> e.kind().equals(TomaEvent.REPAIR_STEP) && e.subject().equals(volume))
        .map(TomaEvent::message).toList();
  }

  /** Nodes whose kernel exports the volume with ANA optimized (a writer the host may use). */
  static Set<String> optimizedExporters(String nqn) throws Exception {
    Set<String> out = new TreeSet<>();
    for (Map.Entry<String, SimNode> n : nodes.entrySet()) {
      if (!n.getValue().isUp()) {
        continue;
      }
      for (KernelState.PortState p : n.getValue().kernel().read().ports().values()) {
        // group 1 is nvmet's default group (always there); the volume's paths are in its own group
        if (p.subsystems().contains(nqn)
            && p.anaGroups().get(VirtualDisk.VOLUME_ANA_GROUP) == DesiredState.AnaState.OPTIMIZED) {
          out.add(n.getKey());
        }
      }
    }
    return out;
  }

  // ---- the tests ----

  @Test
  @Order(1)
  void a_link_flapping_shorter_than_the_grace_window_rebuilds_nothing_re_adds_the_member_and_every_write_reads_back() throws Exception {
    Online v = onlineVolume("vol-flap", 1, "hflap");
    String active = controller(v.view(), "active");
    String peer = v.view().legs().get(0).replicas().get(0).node();
    List<String> before = v.view().legs().get(0).replicas().stream().map(VolumeView.ReplicaView::disk).toList();
    int written = 0;
    for (; written < 16; written++) {
      write(v.host(), v.nqn(), written);
    }

    for (int flap = 0; flap < 3; flap++) {
      cluster.cutLink(active, peer);
      write(v.host(), v.nqn(), written++); // raid1 carries on with the member it still reaches
      cluster.advance(PATH_GRACE.dividedBy(3)); // a third of the path grace, in simulated time
      cluster.healLink(active, peer);
      cluster.advance(PATH_GRACE.multipliedBy(2)); // the link is back: long past any grace now
    }
    // give the detector's own (wall-clock) grace window time to have declared anything it would
    for (int i = 0; i < 30; i++) {
      Thread.sleep(100);
      write(v.host(), v.nqn(), written++);
    }

    // a member raid1 marked failed meanwhile is a suspect: re-added (a reload of the leg's raid1
    // on the active) and resynced, and the volume is whole again, with no rebuild
    java.util.function.LongSupplier suspected = () -> events.stream().filter(e -> e.kind().equals(TomaEvent.FAULT_DETECTED)
        && e.subject().equals("vol-flap") && e.message().contains("suspect")).count();
    java.util.function.LongSupplier readded = () -> steps("vol-flap").stream().filter(m -> m.contains(" re-added")).count();
    awaitView("vol-flap", "the volume whole again, every suspected member re-added",
        w -> w.state().equals("Online") && readded.getAsLong() >= suspected.getAsLong());
    assertEquals(List.of(), steps("vol-flap").stream()
        .filter(m -> m.startsWith("rebuild of") || m.startsWith("failover")).toList(),
        "no rebuild, no failover for a flap");
    assertTrue(events.stream().noneMatch(e -> e.kind().equals(TomaEvent.FAULT_DETECTED)
        && e.message().contains("LinkLost[observer=" + active + ", peer=" + peer)), "no link loss declared");
    VolumeView after = ok(topology.service.getVolume("vol-flap"));
    assertEquals(before, after.legs().get(0).replicas().stream().map(VolumeView.ReplicaView::disk).toList(),
        "the members stay where they were");
    verify(v.host(), v.nqn(), written);
  }

  /** Fails, once, the journal write of the volume's batch holding an event {@code which} accepts. */
  static final class CrashOnce implements ProcessingPolicy<JournalOperation> {
    final String persistenceId;
    final java.util.function.Predicate<Object> which;
    final java.util.concurrent.atomic.AtomicBoolean fired = new java.util.concurrent.atomic.AtomicBoolean();

    CrashOnce(String volume, java.util.function.Predicate<Object> which) {
      this.persistenceId = PersistenceId.of(VirtualDisk.TYPE_KEY.name(), volume).id();
      this.which = which;
    }

    @Override
    public ProcessingResult tryProcess(String pid, JournalOperation op) {
      if (!fired.get() && pid.equals(persistenceId) && op instanceof WriteEvents w) {
        for (Object e : scala.jdk.javaapi.CollectionConverters.asJava(w.batch())) {
          Object payload = e instanceof Tagged t ? t.payload() : e;
          if (which.test(payload) && fired.compareAndSet(false, true)) {
            return new StorageFailure(new RuntimeException("the manager crashed (test)"));
          }
        }
      }
      return ProcessingSuccess$.MODULE$;
    }
  }

  @Test
  @Order(3)
  void the_volume_dying_in_the_middle_of_a_failover_completes_it_after_recovery_with_one_promotion()
      throws Exception {
    Online v = onlineVolume("vol-fo-crash", 1, "hfocrash");
    String active = controller(v.view(), "active");
    String standby = controller(v.view(), "standby");
    int written = 0;
    for (; written < 16; written++) {
      write(v.host(), v.nqn(), written);
    }
    CrashOnce crash = new CrashOnce("vol-fo-crash", e -> e instanceof VolumeRecord.FailoverStep f
        && f.event() instanceof Failover.Promoted);
    PersistenceTestKit journal = PersistenceTestKit.create(topology.testKit.system());
    journal.withPolicy(crash);
    try {
      cluster.crash(active);
      topology.service.faults().tell(new FaultRouter.Signal(new FaultDetector.Downed(active)));
      VolumeView after = awaitView("vol-fo-crash", "the standby active after the failover, resumed",
          view -> view.state().equals("Online") && view.controllers().stream()
              .anyMatch(c -> c.role().equals("active") && c.node().equals(standby)));
      assertTrue(crash.fired.get(), "the entity died while promoting");
      List<String> steps = steps("vol-fo-crash");
      assertEquals(1, steps.stream().filter(s -> s.startsWith("failover: PromotionRequested")).count(),
          "one promotion, before and after the restart: " + steps);
      assertEquals(v.view().epoch() + 1, after.epoch());
      assertTrue(steps.stream().anyMatch(s -> s.startsWith("failover: Done")), steps.toString());
    } finally {
      journal.resetPolicy();
      // the crashed node boots again as a new member (for the tests after this one)
      cluster.restart(active);
      topology.service.faults().tell(new FaultRouter.Signal(new FaultDetector.MemberUp(active,
          Optional.of("rack" + active.charAt(1)))));
    }
    for (; written < 32; written++) {
      write(v.host(), v.nqn(), written);
    }
    verify(v.host(), v.nqn(), written);
  }

  @Test
  @Order(4)
  void a_link_down_longer_than_the_grace_window_rebuilds_each_member_behind_it_exactly_once_elsewhere()
      throws Exception {
    Online v = onlineVolume("vol-cut", 2, "hcut");
    String active = controller(v.view(), "active");
    String peer = v.view().legs().get(0).replicas().get(0).node();
    Set<String> behind = new TreeSet<>();
    for (int leg = 0; leg < v.view().legs().size(); leg++) {
      for (VolumeView.ReplicaView r : v.view().legs().get(leg).replicas()) {
        if (r.node().equals(peer)) {
          behind.add(r.disk() + "#" + leg);
        }
      }
    }
    int written = 0;
    for (; written < 16; written++) {
      write(v.host(), v.nqn(), written);
    }

    cluster.cutLink(active, peer);
    VolumeView healed;
    try {
      for (; written < 32; written++) {
        write(v.host(), v.nqn(), written); // degraded, not stalled
      }
      healed = awaitView("vol-cut", "every member behind the cut link rebuilt elsewhere and Online",
          view -> view.state().equals("Online") && view.legs().stream()
              .allMatch(l -> l.replicas().stream().noneMatch(r -> r.node().equals(peer))));
    } catch (AssertionError e) {
      System.out.println("DEBUG cut " + active + "->" + peer + " steps " + steps("vol-cut"));
      System.out.println("DEBUG faults " + events.stream().filter(x -> x.kind().equals(TomaEvent.FAULT_DETECTED))
          .map(TomaEvent::message).toList());
      throw e;
    } finally {
      cluster.healLink(active, peer);
    }

    List<String> steps = steps("vol-cut");
    Map<String, Long> memberLost = steps.stream().filter(s -> s.startsWith("rebuild of ") && s.endsWith(": MemberLost"))
        .collect(Collectors.groupingBy(s -> s.substring("rebuild of ".length(), s.indexOf(':')), Collectors.counting()));
    assertEquals(behind.size(), memberLost.size(), "one rebuild per member behind the link: " + steps);
    memberLost.forEach((tag, n) -> assertEquals(1L, n, "exactly one rebuild of " + tag + ": " + steps));
    assertTrue(steps.stream().noneMatch(s -> s.startsWith("failover")), "the active still read every leg: " + steps);
    assertEquals(active, controller(healed, "active"));
    for (; written < 48; written++) {
      write(v.host(), v.nqn(), written);
    }
    verify(v.host(), v.nqn(), written);
  }

  @Test
  @Order(2)
  void a_controller_only_active_the_majority_cannot_see_fails_over_fence_first_and_is_never_optimized_again()
      throws Exception {
    Online v = onlineVolume("vol-unreach", 1, "hunreach");
    String active = controller(v.view(), "active");
    String standby = controller(v.view(), "standby");
    int written = 0;
    for (; written < 16; written++) {
      write(v.host(), v.nqn(), written);
    }
    // every storage node is a member the detector counts; all but the active see it unreachable
    for (String n : nodes.keySet()) {
      topology.service.faults().tell(new FaultRouter.Signal(new FaultDetector.MemberUp(n,
          Optional.of("rack" + n.charAt(1)))));
    }
    for (String n : nodes.keySet()) {
      if (!n.equals(active)) {
        topology.service.faults().tell(new FaultRouter.Signal(new FaultDetector.Unreachable(n, active)));
      }
    }

    VolumeView after = awaitView("vol-unreach", "the standby active after the failover",
        view -> view.state().equals("Online") && view.controllers().stream()
            .anyMatch(c -> c.role().equals("active") && c.node().equals(standby)));
    // the node was only unreachable: the majority sees it again, it is never downed
    for (String n : nodes.keySet()) {
      if (!n.equals(active)) {
        topology.service.faults().tell(new FaultRouter.Signal(new FaultDetector.Reachable(n, active)));
      }
    }

    List<String> steps = steps("vol-unreach");
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
    assertTrue(steps.stream().noneMatch(s -> s.startsWith("rebuild")), "nothing rebuilt on unreachability: " + steps);
    assertEquals(v.view().epoch() + 1, after.epoch());
    TestProbe<Object> probe = topology.testKit.createTestProbe();
    try {
      probe.awaitAssert(Duration.ofSeconds(20), Duration.ofMillis(100), () -> {
        cluster.advance(Duration.ofMillis(100));
        try {
          assertEquals(Set.of(standby), optimizedExporters(v.nqn()),
              "one writer: the old active, alive all along, got its new desired state and is not optimized");
        } catch (Exception e) {
          throw new AssertionError(e);
        }
        return null;
      });
    } catch (AssertionError e) {
      KernelState k = nodes.get(active).kernel().read();
      System.out.println("DEBUG old active " + active + " ports " + k.ports() + " subsystems " + k.subsystems());
      System.out.println("DEBUG view " + ok(topology.service.getVolume("vol-unreach")));
      System.out.println("DEBUG steps " + steps("vol-unreach"));
      throw e;
    }
    assertFalse(optimizedExporters(v.nqn()).contains(active));
    for (; written < 32; written++) {
      write(v.host(), v.nqn(), written);
    }
    verify(v.host(), v.nqn(), written);
  }
}
