package io.toma.volume;

import static io.toma.testing.TestTopology.GIB;
import static io.toma.testing.TestTopology.WAIT;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import io.toma.disk.Extent;
import io.toma.disk.PhysicalDisk;
import io.toma.testing.TestTopology;
import io.toma.topology.FailureDomainLevel;
import io.toma.topology.Layout;
import io.toma.topology.TopologyResult;
import io.toma.topology.VolumeSpec;
import io.toma.topology.VolumeView;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import org.apache.pekko.actor.testkit.typed.javadsl.TestProbe;
import org.apache.pekko.cluster.sharding.typed.javadsl.ClusterSharding;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;

/**
 * Hundreds of creates at once against one sharded cluster (20 shards) with tight capacity, so
 * placements race for the same disks, disks refuse, and creates retry elsewhere.
 */
class ConcurrentCreatesTest {

  static final TestTopology topology = new TestTopology("ConcurrentCreatesTest", TestTopology.fastSettings());
  static final List<String> DISKS = new ArrayList<>();
  static final int VOLUMES = 300;

  static {
    for (int i = 1; i <= 6; i++) {
      String node = "n" + i;
      topology.node(node, "z1", "r" + (i % 3), Set.of("disk", "controller"), 256 * GIB, 512 * GIB);
      DISKS.add(node + "-d0");
      DISKS.add(node + "-d1");
    }
    topology.awaitRegistered(6, 12);
  }

  @AfterAll
  static void shutdown() {
    topology.close();
  }

  @Test
  void hundredsOfConcurrentCreatesNeverGetTheSameExtentOrOverfillADisk() {
    Random random = new Random(42);
    List<CompletableFuture<TopologyResult<VolumeView>>> creates = new ArrayList<>();
    for (int i = 0; i < VOLUMES; i++) {
      int legs = 1 + random.nextInt(2);
      long size = legs * (4 + random.nextInt(12)) * GIB;
      creates.add(topology.service.createVolume(
          new VolumeSpec("c" + i, size, Layout.of(legs, 2, random.nextInt(2), FailureDomainLevel.NODE)))
          .toCompletableFuture());
    }
    Map<String, VolumeView> created = new HashMap<>();
    int refused = 0;
    for (CompletableFuture<TopologyResult<VolumeView>> create : creates) {
      TopologyResult<VolumeView> result = create.join();
      if (result instanceof TopologyResult.Ok<VolumeView> ok) {
        created.put(ok.value().id(), ok.value());
      } else if (result instanceof TopologyResult.PlacementFailed<VolumeView>) {
        refused++;
      } else {
        fail("unexpected answer " + result);
      }
    }
    System.out.printf("concurrent creates: %d placed, %d refused for capacity%n", created.size(), refused);
    assertTrue(created.size() > VOLUMES / 3, "most creates placed");
    assertTrue(refused > 0, "capacity was tight enough to make placements race and fail");

    // Releases of abandoned attempts are sent without waiting: look until the disks settle.
    TestProbe<Object> probe = topology.testKit.createTestProbe();
    probe.awaitAssert(WAIT, () -> {
      Map<String, List<Extent>> byDisk = new HashMap<>();
      for (String disk : DISKS) {
        PhysicalDisk.DiskStatus status = ClusterSharding.get(topology.testKit.system())
            .entityRefFor(PhysicalDisk.TYPE_KEY, disk)
            .<PhysicalDisk.DiskStatus>ask(PhysicalDisk.Get::new, WAIT).toCompletableFuture().join();
        byDisk.put(disk, status.extents());
        long used = 0;
        for (int i = 0; i < status.extents().size(); i++) {
          Extent e = status.extents().get(i);
          used += e.lengthBytes();
          if (i > 0) {
            assertTrue(status.extents().get(i - 1).endBytes() <= e.offsetBytes(), "overlap on " + disk + ": " + e);
          }
          assertTrue(created.containsKey(e.volumeId()), "extent of a volume that was not created: " + e);
        }
        assertTrue(used <= status.facts().orElseThrow().sizeBytes(), disk + " over-allocated");
      }
      // every member of every created volume owns exactly the extent the volume recorded
      Set<String> seen = new HashSet<>();
      for (VolumeView v : created.values()) {
        for (VolumeView.LegView leg : v.legs()) {
          Set<String> nodes = new HashSet<>();
          for (int r = 0; r < leg.replicas().size(); r++) {
            VolumeView.ReplicaView replica = leg.replicas().get(r);
            assertTrue(nodes.add(replica.node()), v.id() + " leg " + leg.index() + " twice on " + replica.node());
            String tag = "l" + leg.index() + "r" + r;
            long owned = byDisk.get(replica.disk()).stream()
                .filter(e -> e.volumeId().equals(v.id()) && e.tag().equals(tag)).count();
            assertEquals(1, owned, v.id() + "/" + tag + " on " + replica.disk());
            assertTrue(seen.add(v.id() + "/" + tag));
          }
        }
      }
      long extents = byDisk.values().stream().mapToLong(List::size).sum();
      assertEquals(seen.size(), extents, "no extent left over from abandoned attempts");
      return null;
    });
    assertFalse(created.isEmpty());
  }
}
