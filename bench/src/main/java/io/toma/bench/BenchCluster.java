package io.toma.bench;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigFactory;
import io.toma.agent.AgentProtocol.DiskInfo;
import io.toma.config.ClusterConfig;
import io.toma.config.TomaConfig;
import io.toma.config.TomaSettings;
import io.toma.persistence.JournalConfig;
import io.toma.persistence.JournalSetup;
import io.toma.topology.NodeView;
import io.toma.topology.TopologyResult;
import io.toma.topology.TopologyService;
import io.toma.topology.TopologySettings;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.ServerSocket;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.actor.typed.Props;
import org.apache.pekko.actor.typed.javadsl.Behaviors;
import org.apache.pekko.cluster.typed.Cluster;
import org.apache.pekko.cluster.typed.Join;

/**
 * A one-member manager cluster as a Toma manager runs it (toma-cluster.conf, the node's cluster
 * and journal overrides, {@link TopologyService}), with the embedded H2 journal in {@code dataDir}
 * or Pekko's in-memory journal, and {@link FakeAgent}s for the storage nodes.
 */
public final class BenchCluster implements AutoCloseable {

  /** Where events go. */
  public enum Journal { H2, IN_MEMORY }

  public final ActorSystem<Void> system;
  public final TopologyService service;

  private BenchCluster(ActorSystem<Void> system, TopologyService service) {
    this.system = system;
    this.service = service;
  }

  /** The Pekko configuration: production layers, plus {@code extra} on top. */
  public static Config config(Path dataDir, Journal journal, Map<String, Object> extra) {
    int port = freePort();
    Config node = ConfigFactory.parseMap(Map.of(
        "toma.data-dir", dataDir.toAbsolutePath().toString(),
        "toma.node.id", "bench-manager",
        "toma.node.roles", List.of("manager"),
        "toma.cluster.canonical-port", port,
        "toma.cluster.seed-nodes", List.of("127.0.0.1:" + port),
        "pekko.loglevel", "WARNING",
        "pekko.cluster.log-info", "off"));
    Config base = ConfigFactory.parseMap(extra).withFallback(node).withFallback(TomaConfig.load()).resolve();
    TomaSettings settings = TomaSettings.load(base);
    Config withCluster = ClusterConfig.overrides(settings).withFallback(ConfigFactory.parseMap(extra));
    if (journal == Journal.H2) {
      return withCluster.withFallback(JournalConfig.overrides(settings)).withFallback(base);
    }
    return withCluster.withFallback(inMemory()).withFallback(base);
  }

  private static Config inMemory() {
    // The persistence test kit's journal and snapshot store: events stay in this JVM's heap.
    return org.apache.pekko.persistence.testkit.javadsl.EventSourcedBehaviorTestKit.config()
        .withFallback(org.apache.pekko.persistence.testkit.PersistenceTestKitSnapshotPlugin.config());
  }

  /** Starts the member, creates the journal tables if needed, joins itself, starts the topology. */
  public static BenchCluster start(Config config, Journal journal, TopologySettings settings) {
    // The seed node addresses carry the cluster's system name: the member must use it too.
    ActorSystem<Void> system = ActorSystem.create(Behaviors.empty(), config.getString("toma.cluster.system-name"), config);
    if (journal == Journal.H2) {
      JournalSetup.createTablesIfMissing(system).toCompletableFuture().join();
    }
    Cluster cluster = Cluster.get(system);
    cluster.manager().tell(Join.create(cluster.selfMember().address()));
    TopologyService service = TopologyService.init(system, settings);
    return new BenchCluster(system, service);
  }

  /**
   * Serves the HTTP API as a manager does (/api/v1 over {@code TopologyClusterOperations}, plus
   * health; authentication off) on a free loopback port, and returns the port.
   */
  public int serveHttp() {
    org.apache.pekko.http.javadsl.server.Route api = io.toma.api.ApiServer.routes(
        new io.toma.api.cluster.TopologyClusterOperations(system, service, Duration.ofSeconds(10)),
        io.toma.api.ApiEvents.none(), java.util.Optional.empty(), io.toma.api.ApiAuth.disabled());
    var route = org.apache.pekko.http.javadsl.server.Directives.concat(api, io.toma.api.health.HealthRoute.create(system));
    return io.toma.api.ApiServer.bind(system, "127.0.0.1", 0, route).toCompletableFuture().join()
        .localAddress().getPort();
  }

  /** {@code racks} x {@code nodesPerRack} storage nodes (disk + controller), each with these disks. */
  public void addNodes(int racks, int nodesPerRack, long... diskSizes) {
    for (int r = 0; r < racks; r++) {
      for (int n = 0; n < nodesPerRack; n++) {
        String nodeId = String.format("r%02dn%02d", r, n);
        List<DiskInfo> disks = new ArrayList<>();
        for (int d = 0; d < diskSizes.length; d++) {
          disks.add(new DiskInfo(nodeId + "-d" + d, diskSizes[d], "/dev/nvme" + d + "n1", true));
        }
        system.systemActorOf(FakeAgent.create(new FakeAgent.Node(nodeId, "z1", "r" + r,
            Set.of("disk", "controller"), disks)), "agent-" + nodeId, Props.empty());
      }
    }
    awaitRegistered(racks * nodesPerRack, racks * nodesPerRack * diskSizes.length);
  }

  /** Polls the capacity view until every node and disk is known (registration is asynchronous). */
  public void awaitRegistered(int nodes, int disks) {
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(120);
    while (System.nanoTime() < deadline) {
      TopologyResult<List<NodeView>> result = service.listNodes().toCompletableFuture().join();
      if (result instanceof TopologyResult.Ok<List<NodeView>> ok
          && ok.value().size() == nodes
          && ok.value().stream().mapToInt(v -> v.disks().size()).sum() == disks) {
        return;
      }
      sleep(Duration.ofMillis(100));
    }
    throw new IllegalStateException("nodes and disks did not register within 120 s");
  }

  public static void sleep(Duration d) {
    try {
      Thread.sleep(d.toMillis());
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException(e);
    }
  }

  static int freePort() {
    try (ServerSocket s = new ServerSocket(0)) {
      return s.getLocalPort();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  @Override
  public void close() {
    system.terminate();
    system.getWhenTerminated().toCompletableFuture().join();
  }
}
