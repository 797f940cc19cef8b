package io.toma.bench.scale;

import io.toma.bench.BenchCluster;
import io.toma.bench.Mode;
import io.toma.bench.Report;
import io.toma.bench.placement.StorageSim;
import io.toma.bench.provisioning.ProvisioningBench;
import io.toma.placement.DiskPlacer;
import io.toma.topology.FailureDomainLevel;
import io.toma.topology.TopologyResult;
import io.toma.topology.TopologySettings;
import io.toma.topology.VolumeSpec;
import io.toma.volume.VirtualDisk;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import org.apache.pekko.actor.typed.javadsl.Adapter;
import org.apache.pekko.actor.typed.javadsl.Behaviors;
import org.apache.pekko.cluster.sharding.ShardRegion;
import org.apache.pekko.cluster.sharding.typed.javadsl.ClusterSharding;
import org.apache.pekko.cluster.sharding.typed.javadsl.Entity;

/**
 * Issue 9, benchmark 4: heap per active VirtualDisk entity, re-planning every volume a lost rack
 * touched (100 nodes, 10 racks), and the cold restart of a manager on its H2 journal.
 */
public final class ScaleBench {

  private ScaleBench() {}

  public static Report run(Mode mode, String command) {
    int planVolumes = mode.pick(500, 10_000, 100_000);
    int heapEntities = mode.pick(30, 800, 10_000);
    int restartVolumes = mode.pick(20, 400, 5_000);
    Report report = new Report("Scale: heap per entity, re-plan after a rack loss, cold restart", command)
        .setting("cluster", "storage nodes in racks of 10 nodes (100 nodes, 10 racks; 20 nodes in the smoke test),"
            + " 4 x 4 TiB disks per node; one manager member");
    replan(report, planVolumes);
    int racks = mode.pick(2, 10, 10);
    heapPerEntity(report, heapEntities, mode.pick(10, 100, 200), racks);
    coldRestart(report, restartVolumes, racks);
    return report;
  }

  // ---- re-plan ----

  static void replan(Report report, int volumes) {
    Random random = new Random(1);
    double reserve = TopologySettings.defaults().spareReserveFraction();
    StorageSim sim = new StorageSim(DiskPlacer.forNewVolumes(reserve));
    for (int r = 0; r < 10; r++) {
      for (int n = 0; n < 10; n++) {
        String node = "r" + r + "n" + n;
        for (int d = 0; d < 4; d++) {
          sim.addDisk(new StorageSim.Disk(node + "d" + d, node, "r" + r, "z1", 4 * VolumeSpec.TIB));
        }
      }
    }
    // Per-leg sizes shrink as the count grows, so the cluster ends about half full at any count.
    int maxLegGib = Math.max(2, 400_000 / volumes);
    long fillStart = System.nanoTime();
    int refused = 0;
    for (int i = 0; i < volumes; i++) {
      int legs = 1 + random.nextInt(2);
      int replicas = random.nextInt(4) == 0 ? 3 : 2;
      long size = legs * (1 + random.nextInt(maxLegGib)) * VolumeSpec.GIB;
      if (sim.create("v" + i, size, legs, replicas, FailureDomainLevel.RACK).isEmpty()) {
        refused++;
      }
    }
    double fillSeconds = (System.nanoTime() - fillStart) / 1e9;
    Set<String> rack = new HashSet<>();
    sim.disks().stream().filter(d -> d.rack().equals("r0")).forEach(d -> rack.add(d.diskId()));
    long affected = sim.volumes().stream()
        .filter(v -> v.members().stream().anyMatch(m -> rack.contains(m.diskId()))).count();
    var threads = java.lang.management.ManagementFactory.getThreadMXBean();
    long cpuStart = threads.getCurrentThreadCpuTime();
    long start = System.nanoTime();
    List<StorageSim.Replacement> replacements = sim.loseAndReprotect(rack, reserve);
    double seconds = (System.nanoTime() - start) / 1e9;
    double cpuSeconds = (threads.getCurrentThreadCpuTime() - cpuStart) / 1e9;
    long notPlaced = replacements.stream().filter(r -> r.diskId().isEmpty()).count();
    report.table(new Report.Table("re-plan after losing rack r0 (10 nodes, 40 disks): pure placement + extent allocator"
            + " as in production (new volumes: DiskPlacer.forNewVolumes; lost members in RepairScheduler order, each"
            + " placed by DiskPlacer.forReprotection and granted by its disk's ExtentAllocator, in one thread);"
            + " target <= 30 s",
        List.of("volumes", "used after fill", "affected volumes", "members re-placed", "not placed", "re-plan time (wall)",
            "re-plan CPU time (one thread)", "CPU per member"),
        List.of(List.of(String.format(Locale.ROOT, "%,d (%d refused at fill, fill took %.1f s)", volumes, refused, fillSeconds),
            String.format(Locale.ROOT, "%.0f %%", 100.0 * sim.usedBytes() / sim.totalBytes()),
            String.format(Locale.ROOT, "%,d", affected), String.format(Locale.ROOT, "%,d", replacements.size()),
            String.valueOf(notPlaced), String.format(Locale.ROOT, "%.2f s", seconds),
            String.format(Locale.ROOT, "%.2f s", cpuSeconds),
            String.format(Locale.ROOT, "%.0f us", cpuSeconds * 1e6 / Math.max(1, replacements.size()))))));
    report.note("volumes for the re-plan: 1-2 legs, 2 replicas (3 for a quarter), 1 to max(2, 400000 / volumes) GiB per leg"
        + " (about half the cluster used at any count), failure domain rack,"
        + " so every leg survives the loss of one rack. The actor path (VirtualDisk asking PhysicalDisk entities) is"
        + " not used here: it would add one journal write per grant, see the provisioning figures.");
  }

  // ---- heap ----

  static void heapPerEntity(Report report, int entities, int warm, int racks) {
    Path dir = ProvisioningBench.tempDir();
    // Entities stay active for the whole measurement (sharding would passivate them after 120 s idle).
    var config = BenchCluster.config(dir, BenchCluster.Journal.IN_MEMORY,
        Map.of("pekko.cluster.sharding.passivation.default-idle-strategy.idle-entity.timeout", "1h"));
    try (BenchCluster cluster = BenchCluster.start(config, BenchCluster.Journal.IN_MEMORY, TopologySettings.defaults())) {
      cluster.addNodes(racks, 10, 4 * VolumeSpec.TIB, 4 * VolumeSpec.TIB, 4 * VolumeSpec.TIB, 4 * VolumeSpec.TIB);
      ProvisioningBench.runLevel(ProvisioningBench.viaService(cluster.service), "warm", 16, warm);
      long baseline = Heap.usedAfterGc();
      long start = System.nanoTime();
      ProvisioningBench.Level level = ProvisioningBench.runLevel(
          ProvisioningBench.viaService(cluster.service), "h", 16, entities);
      double createSeconds = (System.nanoTime() - start) / 1e9;
      long active = Heap.usedAfterGc();
      // Stop every VirtualDisk (the region hands its shards off and stops them); what the volume
      // left elsewhere (journal in memory, extents in PhysicalDisk, ids in VolumeIndex) stays.
      var region = ClusterSharding.get(cluster.system).init(Entity.of(VirtualDisk.TYPE_KEY, ctx -> Behaviors.<VirtualDisk.Command>empty()));
      Adapter.toClassic(region).tell(ShardRegion.gracefulShutdownInstance(), org.apache.pekko.actor.ActorRef.noSender());
      BenchCluster.sleep(Duration.ofSeconds(3));
      long stopped = Heap.usedAfterGc();
      int n = entities + warm;
      report.table(new Report.Table("heap per active VirtualDisk entity (in-memory journal, " + entities
              + " volumes created through TopologyService, then the VirtualDisk region stopped); target <= 10 KiB",
          List.of("entities", "heap with entities active", "after stopping them", "per active entity",
              "everything a volume adds (incl. journal, extents, index)", "create rate"),
          List.of(List.of(String.format(Locale.ROOT, "%,d", n), mib(active), mib(stopped),
              String.format(Locale.ROOT, "%.1f KiB", (active - stopped) / 1024.0 / n),
              String.format(Locale.ROOT, "%.1f KiB", (active - baseline) / 1024.0 / entities),
              String.format(Locale.ROOT, "%.0f creates/s (%d failed)", entities / createSeconds, level.failed())))));
    } finally {
      ProvisioningBench.deleteRecursively(dir);
    }
  }

  // ---- cold restart ----

  static void coldRestart(Report report, int volumes, int racks) {
    Path dir = ProvisioningBench.tempDir();
    try {
      double createSeconds;
      try (BenchCluster cluster = BenchCluster.start(BenchCluster.config(dir, BenchCluster.Journal.H2, Map.of()),
          BenchCluster.Journal.H2, TopologySettings.defaults())) {
        cluster.addNodes(racks, 10, 4 * VolumeSpec.TIB, 4 * VolumeSpec.TIB, 4 * VolumeSpec.TIB, 4 * VolumeSpec.TIB);
        long start = System.nanoTime();
        ProvisioningBench.runLevel(ProvisioningBench.viaService(cluster.service), "r", 16, volumes);
        createSeconds = (System.nanoTime() - start) / 1e9;
      }
      long start = System.nanoTime();
      try (BenchCluster cluster = BenchCluster.start(BenchCluster.config(dir, BenchCluster.Journal.H2, Map.of()),
          BenchCluster.Journal.H2, TopologySettings.defaults())) {
        int port = cluster.serveHttp();
        double started = (System.nanoTime() - start) / 1e9;
        int status = httpGetUntilAnswered("http://127.0.0.1:" + port + "/api/v1/volumes/r-0");
        double firstAnswer = (System.nanoTime() - start) / 1e9;
        TopologyResult<?> listed = await(() -> cluster.service.listVolumes(0, 1).toCompletableFuture().join());
        double indexAnswer = (System.nanoTime() - start) / 1e9;
        // Every volume recovered: what a manager must do before it can resume repairs.
        List<CompletableFuture<?>> gets = new ArrayList<>();
        for (int i = 0; i < volumes; i++) {
          gets.add(cluster.service.getVolume("r-" + i).toCompletableFuture());
          if (gets.size() >= 256) {
            CompletableFuture.allOf(gets.toArray(CompletableFuture[]::new)).join();
            gets.clear();
          }
        }
        CompletableFuture.allOf(gets.toArray(CompletableFuture[]::new)).join();
        double all = (System.nanoTime() - start) / 1e9;
        report.table(new Report.Table("cold restart of the manager on its H2 journal (" + String.format(Locale.ROOT, "%,d", volumes)
                + " volumes, created in " + String.format(Locale.ROOT, "%.0f s", createSeconds)
                + "); times from the start of the new ActorSystem; target: API answers within 30 s",
            List.of("member up, journal tables checked, HTTP bound", "API answers GET /api/v1/volumes/r-0",
                "volume list answered",
                "every volume recovered", "per volume", "100,000 volumes at that rate"),
            List.of(List.of(s(started), s(firstAnswer) + " (HTTP " + status + ")",
                s(indexAnswer) + (listed instanceof TopologyResult.Ok<?> ? "" : " (" + listed + ")"), s(all),
                String.format(Locale.ROOT, "%.2f ms", (all - indexAnswer) * 1000 / volumes),
                s(indexAnswer + (all - indexAnswer) * 100_000 / volumes) + " (extrapolated)"))));
        report.note("sharding's remember-entities is off: after a restart a volume's entity recovers when something"
            + " addresses it, so the API answers before most entities are back; 'every volume recovered' asks each one.");
      }
    } finally {
      ProvisioningBench.deleteRecursively(dir);
    }
  }

  /** Polls until the API answers anything but a server error; returns the status. */
  private static int httpGetUntilAnswered(String url) {
    var client = java.net.http.HttpClient.newHttpClient();
    var request = java.net.http.HttpRequest.newBuilder(java.net.URI.create(url)).timeout(Duration.ofSeconds(30)).build();
    for (int i = 0; ; i++) {
      try {
        int status = client.send(request, java.net.http.HttpResponse.BodyHandlers.discarding()).statusCode();
        if (status < 500 || i >= 100) {
          return status;
        }
      } catch (java.io.IOException e) {
        if (i >= 100) {
          throw new java.io.UncheckedIOException(e);
        }
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw new IllegalStateException(e);
      }
      BenchCluster.sleep(Duration.ofMillis(20));
    }
  }

  /** The first answer that is not a timeout (sharding may need a moment to allocate shards). */
  private static TopologyResult<?> await(java.util.function.Supplier<TopologyResult<?>> call) {
    RuntimeException last = null;
    for (int i = 0; i < 60; i++) {
      try {
        return call.get();
      } catch (RuntimeException e) {
        last = e;
      }
    }
    throw last;
  }

  private static String s(double seconds) {
    return String.format(Locale.ROOT, "%.1f s", seconds);
  }

  private static String mib(long bytes) {
    return String.format(Locale.ROOT, "%,.0f MiB", bytes / 1024.0 / 1024.0);
  }
}
