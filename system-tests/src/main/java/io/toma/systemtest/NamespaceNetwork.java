package io.toma.systemtest;

import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * Each node in its own network namespace, plugged into one bridge, made and removed by {@code
 * tools/netns/cluster.sh}. Node i is 10.201.0.i; this test process reaches all of them (and they
 * reach a PostgreSQL listening there) through {@link #HOST_ADDRESS}. The range exists only inside
 * these namespaces and on the host leg: nothing leaves the machine.
 */
public final class NamespaceNetwork implements NodeNetwork, AutoCloseable {
  /** Fixed, so a run that died without cleaning up is cleaned up by the next one. */
  static final String NAME = "tomamp";

  static final String HOST_ADDRESS = "10.201.0.254";
  static final String SUBNET = "10.201.0.0/24";
  private static final int CLUSTER_PORT = 2551;
  private static final int HTTP_PORT = 8080;
  private static final Duration COMMAND_TIMEOUT = Duration.ofSeconds(60);

  private final Path script;
  private final AtomicBoolean closed = new AtomicBoolean();

  private NamespaceNetwork(Path script) {
    this.script = script;
  }

  /** Why namespaces cannot be made here, if they cannot: the partition tests are skipped then. */
  public static Optional<String> unavailableBecause() {
    if (!"root".equals(System.getProperty("user.name"))) {
      return Optional.of("network namespaces need root (running as " + System.getProperty("user.name") + ")");
    }
    if (!Shell.onPath("ip")) {
      return Optional.of("the 'ip' command (iproute2) is not installed");
    }
    return Optional.empty();
  }

  /** Made, or why not (a container without CAP_NET_ADMIN, say): the caller skips then. */
  public sealed interface Outcome permits Made, NotMade {}

  public record Made(NamespaceNetwork network) implements Outcome {}

  public record NotMade(String reason) implements Outcome {}

  public static Outcome create(Path repoRoot, int nodes) {
    NamespaceNetwork network = new NamespaceNetwork(repoRoot.resolve("tools/netns/cluster.sh"));
    Shell.Result result = network.tryRun("up", Integer.toString(nodes));
    if (!result.succeeded()) {
      network.tryRun("down");
      return new NotMade("cannot make the test's network namespaces: " + result.describe());
    }
    // A test JVM that dies before @AfterAll must not leave the namespaces behind.
    Runtime.getRuntime().addShutdownHook(new Thread(network::close, "toma-system-test-netns-down"));
    return new Made(network);
  }

  @Override
  public Endpoint endpoint(int node) {
    return new Endpoint("10.201.0." + node, CLUSTER_PORT, HTTP_PORT);
  }

  @Override
  public List<String> launchPrefix(int node) {
    return List.of("ip", "netns", "exec", NAME + "-n" + node);
  }

  /** Takes node's only link down: it can reach no other node, nor the journal. */
  public void cut(int node) {
    run("cut", Integer.toString(node));
  }

  public void heal(int node) {
    run("heal", Integer.toString(node));
  }

  @Override
  public void close() {
    if (closed.compareAndSet(false, true)) {
      run("down");
    }
  }

  private void run(String command, String... args) {
    Shell.Result result = tryRun(command, args);
    if (!result.succeeded()) {
      throw new IllegalStateException("network namespace command failed: " + result.describe());
    }
  }

  private Shell.Result tryRun(String command, String... args) {
    List<String> line = new ArrayList<>(List.of("bash", script.toString(), command, NAME));
    line.addAll(List.of(args));
    return Shell.run(line, COMMAND_TIMEOUT);
  }
}
