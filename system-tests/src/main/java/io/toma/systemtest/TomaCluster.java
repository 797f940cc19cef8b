package io.toma.systemtest;



import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.function.Consumer;

/**
 * A real Toma cluster: one {@code java -jar server/target/toma.jar server} process per node, all
 * journaling to one PostgreSQL. Logs and configuration go to the work directory, one log per
 * incarnation ({@code n3-2.log} is node n3 after its first restart).
 */
public final class TomaCluster implements AutoCloseable {
  static final String SYSTEM_NAME = "toma";
  /** Three JVMs starting on two cores, joining through a seed that waits for its peers first. */
  static final Duration START_TIMEOUT = Duration.ofSeconds(120);

  private static final Duration STRICT_ANSWER = Duration.ofSeconds(10);

  private final Path jar;
  private final Path workDir;
  private final NodeNetwork network;
  private final JournalDatabase journal;
  private final Map<String, NodeSpec> nodes;
  private final Map<String, TomaProcess> running = new HashMap<>();
  private final Map<String, Integer> incarnations = new HashMap<>();
  private final HealthClient healthClient = new HealthClient();
  private final List<String> jvmOptions;

  private TomaCluster(
      Path jar, Path workDir, NodeNetwork network, JournalDatabase journal, List<NodeSpec> nodes,
      List<String> jvmOptions) {
    this.jvmOptions = List.copyOf(jvmOptions);
    this.jar = jar;
    this.workDir = workDir;
    this.network = network;
    this.journal = journal;
    this.nodes = new LinkedHashMap<>();
    nodes.forEach(n -> this.nodes.put(n.id(), n));
  }

  /**
   * Starts every node and returns once each manager sees all of them {@code up}. The first node
   * starts alone: it creates the journal tables, which the others then find (several nodes
   * creating them at once would race on PostgreSQL's catalog).
   */
  public static TomaCluster start(
      Path repoRoot, Path workDir, NodeNetwork network, JournalDatabase journal, List<NodeSpec> nodes) {
    return start(repoRoot, workDir, network, journal, nodes, first -> {});
  }

  /**
   * As {@link #start(Path, Path, NodeNetwork, JournalDatabase, List)}, with a check run once the
   * first node is up, before the others start: a scenario whose feature the server lacks skips
   * there without paying for two more JVMs.
   */
  public static TomaCluster start(
      Path repoRoot,
      Path workDir,
      NodeNetwork network,
      JournalDatabase journal,
      List<NodeSpec> nodes,
      Consumer<Endpoint> checkFirstNode) {
    return start(repoRoot, workDir, network, journal, nodes, checkFirstNode, List.of());
  }

  /**
   * As above, every node's JVM started with {@code jvmOptions} too (e.g. {@code -Dpekko...}
   * settings, which override the node's configuration file).
   */
  public static TomaCluster start(
      Path repoRoot,
      Path workDir,
      NodeNetwork network,
      JournalDatabase journal,
      List<NodeSpec> nodes,
      Consumer<Endpoint> checkFirstNode,
      List<String> jvmOptions) {
    Path jar = repoRoot.resolve("server/target/toma.jar");
    if (!Files.isRegularFile(jar)) {
      throw new AssertionError(jar + " is missing: build it first (mvn -B verify builds it before these tests)");
    }
    try {
      Files.createDirectories(workDir);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    TomaCluster cluster = new TomaCluster(jar, workDir.toAbsolutePath(), network, journal, nodes, jvmOptions);
    try {
      NodeSpec first = nodes.get(0);
      cluster.launch(first);
      cluster.awaitSeenUpBy(first, List.of(first.id()));
      checkFirstNode.accept(cluster.endpoint(first.id()));
      nodes.stream().skip(1).forEach(cluster::launch);
      cluster.awaitEveryoneUp();
      return cluster;
    } catch (RuntimeException | AssertionError e) {
      cluster.close();
      throw e;
    }
  }

  /** Waits until every manager that runs sees exactly the running nodes, all {@code up}. */
  public void awaitEveryoneUp() {
    List<String> ids = List.copyOf(running.keySet());
    nodes.values().stream()
        .filter(n -> n.isManager() && running.containsKey(n.id()))
        .forEach(manager -> awaitSeenUpBy(manager, ids));
  }

  private void awaitSeenUpBy(NodeSpec observer, List<String> ids) {
    List<String> addresses = ids.stream().map(this::memberAddress).toList();
    Poll.until(
        observer.id() + " to see " + ids + " up",
        START_TIMEOUT,
        () -> {
          requireRunning(observer.id());
          HealthClient.Answer answer = healthClient.get(endpoint(observer.id()), Duration.ofSeconds(5));
          if (answer instanceof HealthClient.Answered a) {
            return a.health().exactlyTheseUp(addresses)
                ? Poll.Seen.done(a.health(), a.health().summary())
                : Poll.Seen.notYet(a.health().summary());
          }
          return Poll.Seen.notYet(((HealthClient.NoAnswer) answer).why());
        });
  }

  /** This node's view of the cluster; fails the test if it does not answer within 10 s. */
  public Health health(String nodeId) {
    HealthClient.Answer answer = healthClient.get(endpoint(nodeId), STRICT_ANSWER);
    if (answer instanceof HealthClient.Answered a) {
      return a.health();
    }
    throw new AssertionError(
        nodeId + " stopped answering its API: " + ((HealthClient.NoAnswer) answer).why() + logHint(nodeId));
  }

  public HealthClient.Answer tryHealth(String nodeId, Duration timeout) {
    return healthClient.get(endpoint(nodeId), timeout);
  }

  /** kill -9 of the node's process. */
  public void kill(String nodeId) {
    TomaProcess process = process(nodeId);
    process.kill();
    running.remove(nodeId);
  }

  /** Starts the node again with the same id, address and data directory: a new incarnation. */
  public TomaProcess restart(String nodeId) {
    if (running.containsKey(nodeId) && running.get(nodeId).isAlive()) {
      throw new IllegalStateException(nodeId + " is still running");
    }
    return launch(nodes.get(nodeId));
  }

  /** The running (or last started) process of the node. */
  public TomaProcess process(String nodeId) {
    TomaProcess process = running.get(nodeId);
    if (process == null) {
      throw new IllegalStateException(nodeId + " is not running");
    }
    return process;
  }

  /** Forgets a node whose process has ended on its own (downed by the Split Brain Resolver). */
  public void exited(String nodeId) {
    running.remove(nodeId);
  }

  public Endpoint endpoint(String nodeId) {
    return network.endpoint(spec(nodeId).index());
  }

  public String memberAddress(String nodeId) {
    return endpoint(nodeId).memberAddress(SYSTEM_NAME);
  }

  public String logHint(String nodeId) {
    TomaProcess process = running.get(nodeId);
    return process == null ? "" : "\n--- last lines of " + process + " ---\n" + process.logTail(30);
  }

  @Override
  public void close() {
    List<TomaProcess> processes = new ArrayList<>(running.values());
    running.clear();
    // Test processes hold nothing worth a graceful stop; kill -9 is also the fastest.
    processes.forEach(TomaProcess::kill);
  }

  private TomaProcess launch(NodeSpec node) {
    int incarnation = incarnations.merge(node.id(), 1, Integer::sum);
    Path nodeDir = workDir.resolve(node.id());
    Path config = nodeDir.resolve("toma.conf");
    try {
      Files.createDirectories(nodeDir.resolve("data"));
      List<Endpoint> seeds = nodes.values().stream().map(n -> endpoint(n.id())).toList();
      Files.writeString(
          config,
          NodeConfigFile.render(node, endpoint(node.id()), seeds, journal, nodeDir.resolve("data")));
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    List<String> command = new ArrayList<>(network.launchPrefix(node.index()));
    command.addAll(
        List.of(
            Path.of(System.getProperty("java.home"), "bin", "java").toString(),
            // Small and quick to start: three of these share two cores with Maven.
            "-Xmx256m",
            "-XX:+UseSerialGC",
            "-XX:TieredStopAtLevel=1"));
    command.addAll(jvmOptions);
    command.addAll(
        List.of(
            "-Dconfig.file=" + config,
            "-jar",
            jar.toString(),
            "server"));
    TomaProcess process =
        TomaProcess.launch(
            node.id(), incarnation, command, workDir.resolve(node.id() + "-" + incarnation + ".log"));
    running.put(node.id(), process);
    return process;
  }

  private void requireRunning(String nodeId) {
    TomaProcess process = running.get(nodeId);
    if (process != null && !process.isAlive()) {
      throw new AssertionError(
          process + " exited with " + process.awaitExit(Duration.ZERO).map(String::valueOf).orElse("?")
              + logHint(nodeId));
    }
  }

  private NodeSpec spec(String nodeId) {
    return Optional.ofNullable(nodes.get(nodeId))
        .orElseThrow(() -> new IllegalArgumentException("no node " + nodeId + " in " + nodes.keySet()));
  }
}
