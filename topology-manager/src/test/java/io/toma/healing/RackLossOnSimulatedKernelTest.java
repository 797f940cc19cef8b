package io.toma.healing;

import static org.junit.jupiter.api.Assertions.assertTrue;

import io.toma.healing.Refs.DiskRef;
import io.toma.healing.RebuildPermits.Key;
import io.toma.healing.RebuildPermits.Lease;
import io.toma.testing.SimulatedKernelCluster;
import io.toma.testing.SimulatedKernelCluster.Writer;
import io.toma.testing.TestTopology;
import io.toma.topology.FailureDomainLevel;
import io.toma.topology.Layout;
import io.toma.topology.TomaEvent;
import io.toma.topology.VolumeView;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import org.apache.pekko.actor.testkit.typed.javadsl.TestProbe;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.javadsl.AskPattern;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;

/**
 * A whole rack lost, end to end: six converged nodes (each a disk node and a controller node) in
 * three racks, real NodeAgents over simulated kernels, the topology manager in one actor system,
 * simulated hosts writing and verifying through every volume ({@link SimulatedKernelCluster}). Both
 * nodes of rack1 crash at once; the raid1 of the surviving actives notice first, then the failure
 * detector (unreachable to the majority, then downed), as in a real rack loss.
 *
 * <p>Converged, not disaggregated: with three disk nodes a rack loss would leave two, too few for a
 * three-replica leg on distinct nodes; with six converged nodes four survive, so every layout
 * still has room, and the lost rack takes controllers with it, so failovers and rebuilds run
 * together as they would in a real rack loss.
 *
 * <p>The cluster-wide rebuild cap is set to 1 per disk. A sampler reads the {@link
 * RebuildCoordinator}'s table every 50 ms for the whole repair and checks, at every sample, that
 * no disk carries more than one rebuild and that no rebuild with a spare copy left was admitted
 * onto a disk a rebuild with no spare copy was waiting for.
 */
class RackLossOnSimulatedKernelTest {

  static final long MIB = SimulatedKernelCluster.MIB;
  static final String LOST_RACK = "rack1";
  static final HealingSettings HEALING = new HealingSettings(Duration.ofSeconds(1), Duration.ofMillis(500),
      HealingSettings.defaults().fenceConfirmTimeout(), HealingSettings.defaults().selfFenceTimeout(),
      HealingSettings.defaults().hostIoTimeout(), 1, 4, Duration.ofMillis(500));
  static final SimulatedKernelCluster c = SimulatedKernelCluster.named("RackLossOnSimulatedKernelTest", HEALING,
      Duration.ofSeconds(3));
  static final TestTopology topology = c.topology;
  static final ConcurrentLinkedQueue<TomaEvent> events = c.events;

  static {
    for (int r = 1; r <= 3; r++) {
      c.converged("r" + r + "a", "rack" + r, "10.2." + r + ".1");
      c.converged("r" + r + "b", "rack" + r, "10.2." + r + ".2");
    }
    c.start();
  }

  @AfterAll
  static void shutdown() {
    c.close();
  }

  // ---- helpers ----

  static VolumeView view(String id) {
    return c.view(id);
  }

  static Writer onlineVolume(String id, Layout layout) {
    return c.onlineVolume(id, 16 * MIB, layout);
  }

  /** Fewest members left outside the lost rack in any leg, minus the one that keeps it readable. */
  static int spareCopiesLeft(VolumeView v) {
    return v.legs().stream()
        .mapToInt(l -> (int) l.replicas().stream().filter(r -> !r.rack().equals(LOST_RACK)).count() - 1)
        .min().orElseThrow();
  }

  static boolean touchesLostRack(VolumeView v) {
    return v.legs().stream().anyMatch(l -> l.replicas().stream().anyMatch(r -> r.rack().equals(LOST_RACK)));
  }

  static boolean layoutSurvives(VolumeView v) {
    return spareCopiesLeft(v) >= 0 && v.controllers().stream().anyMatch(c -> !c.node().startsWith("r1"));
  }

  static List<String> rebuildSteps(String volume) {
    return events.stream().filter(e -> e.kind().equals(TomaEvent.REPAIR_STEP) && e.subject().equals(volume))
        .map(TomaEvent::message).filter(m -> m.startsWith("rebuild of ")).toList();
  }

  /** What the coordinator held at one moment. */
  record Sample(Map<Key, Lease> granted, Map<Key, Lease> waiting) {}

  static boolean overlap(Lease a, Lease b) {
    return a.repair().touches().stream().anyMatch(b.repair().touches()::contains);
  }

  // ---- the test ----

  @Test
  void a_lost_rack_heals_every_surviving_volume_one_rebuild_per_disk_least_redundancy_first_and_every_write_reads_back()
      throws Exception {
    List<Writer> writers = new ArrayList<>();
    Map<String, Layout> layouts = new TreeMap<>();
    layouts.put("rk-m2a", Layout.of(1, 2, 1, FailureDomainLevel.RACK));
    layouts.put("rk-m2b", Layout.of(2, 2, 1, FailureDomainLevel.RACK));
    layouts.put("rk-m3a", Layout.of(1, 3, 1, FailureDomainLevel.NODE));
    layouts.put("rk-m3c", Layout.of(1, 3, 0, FailureDomainLevel.NODE));
    for (Map.Entry<String, Layout> e : layouts.entrySet()) {
      Writer w = onlineVolume(e.getKey(), e.getValue());
      w.write(64);
      writers.add(w);
    }
    Map<String, VolumeView> before = new TreeMap<>();
    writers.forEach(w -> before.put(w.id, view(w.id)));
    Map<String, Integer> spare = new TreeMap<>();
    Set<String> surviving = new TreeSet<>();
    for (VolumeView v : before.values()) {
      if (touchesLostRack(v)) {
        spare.put(v.id(), spareCopiesLeft(v));
        if (layoutSurvives(v)) {
          surviving.add(v.id());
        }
      }
    }
    System.out.println("RACK-LOSS placement " + before.values().stream().map(v -> v.id() + " legs "
        + v.legs().stream().map(l -> l.replicas().stream().map(VolumeView.ReplicaView::node).toList()).toList()
        + " controllers " + v.controllers().stream().map(c -> c.role() + "@" + c.node()).toList()).toList());
    assertTrue(spare.containsValue(0) && spare.containsValue(1),
        "the placement gives the lost rack both volumes with no spare copy left and with one: " + spare);

    // the coordinator's table, sampled through the whole repair
    ActorRef<RebuildCoordinator.Command> coordinator = RebuildCoordinator.init(topology.testKit.system(), HEALING,
        Duration.ofSeconds(30), key -> {});
    List<Sample> samples = Collections.synchronizedList(new ArrayList<>());
    ScheduledExecutorService sampler = Executors.newSingleThreadScheduledExecutor();
    sampler.scheduleWithFixedDelay(() -> {
      try {
        RebuildPermits p = AskPattern.<RebuildCoordinator.Command, RebuildPermits>ask(coordinator,
            RebuildCoordinator.Get::new, Duration.ofSeconds(5), topology.testKit.scheduler())
            .toCompletableFuture().get(5, TimeUnit.SECONDS);
        samples.add(new Sample(Map.copyOf(p.granted()), Map.copyOf(p.waiting())));
      } catch (Exception e) {
        // a missed sample only makes the check weaker; the next one follows in 50 ms
      }
    }, 0, 50, TimeUnit.MILLISECONDS);

    long lostAt = System.nanoTime();
    try {
      // The rack's nodes die first, as in real life: the actives' raid1 fail their members within
      // about 0.6 s and the suspicions start, long before the cluster downs the nodes (about 5.6 s).
      for (String id : List.of("r1a", "r1b")) {
        c.crash(id);
      }
      TestProbe<Object> probe = topology.testKit.createTestProbe();
      probe.awaitAssert(Duration.ofSeconds(30), Duration.ofMillis(100), () -> {
        assertTrue(before.values().stream().filter(v -> surviving.contains(v.id()))
                .anyMatch(v -> !view(v.id()).state().equals("Online")),
            "some volume noticed the crash before the nodes are downed");
        return null;
      });
      // then the failure detector: a majority sees them unreachable, the Split Brain Resolver downs them
      for (String id : List.of("r1a", "r1b")) {
        for (String observer : List.of("r2a", "r2b", "r3a", "r3b")) {
          topology.service.faults().tell(new FaultRouter.Signal(new FaultDetector.Unreachable(observer, id)));
        }
      }
      for (String id : List.of("r1a", "r1b")) {
        topology.service.faults().tell(new FaultRouter.Signal(new FaultDetector.Downed(id)));
      }
      probe.awaitAssert(Duration.ofSeconds(60), Duration.ofMillis(200), () -> {
        for (Writer w : writers) {
          if (!touchesLostRack(before.get(w.id)) || surviving.contains(w.id)) {
            w.write(4); // the host keeps writing through the whole repair
          }
        }
        for (String id : surviving) {
          VolumeView v = view(id);
          assertTrue(v.state().equals("Online") && !touchesLostRack(v),
              id + " Online with no member in " + LOST_RACK + "; now " + v.state() + " (" + v.reason() + ") "
                  + v.legs() + " steps " + rebuildSteps(id));
        }
        return null;
      });
    } finally {
      sampler.shutdownNow();
      sampler.awaitTermination(10, TimeUnit.SECONDS);
    }
    System.out.printf("RACK-LOSS healed %d volumes in %.1f s (wall), %d samples of the coordinator%n",
        surviving.size(), (System.nanoTime() - lostAt) / 1e9, samples.size());

    // the cap: never more than one rebuild per disk
    List<Sample> seen = List.copyOf(samples);
    System.out.printf("RACK-LOSS most rebuilds admitted at once %d, samples with rebuilds waiting %d%n",
        seen.stream().mapToInt(x -> x.granted().size()).max().orElse(0),
        seen.stream().filter(x -> !x.waiting().isEmpty()).count());
    assertTrue(seen.stream().anyMatch(s -> !s.granted().isEmpty()), "the sampler saw rebuilds admitted");
    for (Sample s : seen) {
      Map<DiskRef, Integer> perDisk = new TreeMap<>(java.util.Comparator.comparing(DiskRef::node)
          .thenComparing(DiskRef::disk));
      s.granted().values().forEach(l -> l.repair().touches().forEach(d -> perDisk.merge(d, 1, Integer::sum)));
      assertTrue(perDisk.values().stream().allMatch(n -> n <= 1), "at most one rebuild per disk: " + perDisk);
    }
    // urgency: a rebuild with a spare copy is never admitted onto a disk that a rebuild with none waited for
    // (before and after the admission: a waiting rebuild asked again for another target, as after a
    // refusal on a disk of the crashed rack, no longer waits for the disk it first named)
    for (int i = 1; i < seen.size(); i++) {
      Sample prev = seen.get(i - 1);
      Sample now = seen.get(i);
      for (Map.Entry<Key, Lease> g : now.granted().entrySet()) {
        if (prev.granted().containsKey(g.getKey()) || g.getValue().repair().spareCopies() == 0) {
          continue;
        }
        for (Map.Entry<Key, Lease> w : prev.waiting().entrySet()) {
          boolean moreUrgent = w.getValue().repair().spareCopies() < g.getValue().repair().spareCopies();
          boolean stillWaits = now.waiting().containsKey(w.getKey());
          assertTrue(!(moreUrgent && stillWaits && overlap(w.getValue(), g.getValue())
                  && overlap(now.waiting().get(w.getKey()), g.getValue())),
              () -> g.getKey() + " (spare " + g.getValue().repair().spareCopies() + ", touches "
                  + g.getValue().repair().touches() + ") admitted onto a disk " + w.getKey() + " (spare "
                  + w.getValue().repair().spareCopies() + ", touching " + w.getValue().repair().touches()
                  + " then, " + now.waiting().get(w.getKey()).repair().touches() + " now) waits for; granted before "
                  + prev.granted().keySet());
        }
      }
    }
    // an old member's extent is released only once its replacement is in sync
    for (String id : surviving) {
      List<String> steps = rebuildSteps(id);
      for (String step : steps) {
        if (step.contains(": OldExtentReleased")) {
          String tag = step.substring("rebuild of ".length(), step.indexOf(':'));
          assertTrue(steps.indexOf("rebuild of " + tag + ": InSync") >= 0
                  && steps.indexOf("rebuild of " + tag + ": InSync") < steps.indexOf(step),
              id + ": " + tag + " released before in sync: " + steps);
        }
      }
      assertTrue(steps.stream().anyMatch(s -> s.endsWith(": InSync")), id + " has a replacement in sync: " + steps);
    }
    // every acknowledged write reads back
    for (Writer w : writers) {
      if (!touchesLostRack(before.get(w.id)) || surviving.contains(w.id)) {
        w.verify();
      }
    }
  }
}
