package io.toma.server;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigFactory;
import com.typesafe.config.ConfigException;
import io.toma.config.InvalidSettingsException;
import io.toma.config.SettingsProblem;
import io.toma.config.TomaConfig;
import io.toma.config.TomaSettings;
import java.io.PrintStream;
import java.util.List;
import java.util.Optional;
import io.toma.cli.TomaCli;
import io.toma.simulation.SimulateCommand;
import org.apache.pekko.actor.CoordinatedShutdown;
import org.apache.pekko.actor.typed.ActorSystem;

/**
 * {@code toma server}: one node with the roles from its configuration. {@code toma demo}: a whole
 * demo cluster in one process. Exit codes: 0 after a requested shutdown, 1 when the configuration
 * is invalid or the node cannot start, 2 for a command it does not know.
 */
public final class Main {
  static final int EXIT_BAD_CONFIG = 1;
  static final int EXIT_USAGE = 2;
  static final int EXIT_STOPPED_UNEXPECTEDLY = 3;

  private Main() {}

  public static void main(String[] args) {
    String command = args.length == 0 ? "" : args[0];
    int exit =
        switch (command) {
          case "server" -> runServer();
          case "demo" -> runDemo();
          case "simulate" -> SimulateCommand.run(java.util.Arrays.copyOfRange(args, 1, args.length), System.out);
          case "" -> usage(System.err);
          // Everything else is the operator CLI against a running API (toma volume list, ...).
          default -> TomaCli.run(args, System.out, System.err);
        };
    // After a SIGTERM the JVM is already exiting (System.exit would block behind our own hooks).
    if (exit != 0) {
      System.exit(exit);
    }
  }

  private static int usage(PrintStream out) {
    out.println("usage: toma <command>");
    out.println("  volume|node|cluster ...   the operator CLI against a running API (toma --help)");
    out.println("  server   start one node with the roles from its configuration");
    out.println("           (-Dconfig.file=/etc/toma/toma.conf, or -Dtoma.<key>=<value>)");
    out.println("  demo     start a demo cluster in this process: 2 managers, 6 storage nodes");
    out.println("           in 3 racks; HTTP on http://127.0.0.1:8080, data in ./toma-data");
    out.println("  simulate --seeds N [--from S] [--break fencing|release-before-sync]");
    out.println("           run the seeded deterministic simulation (docs/simulation.md)");
    return EXIT_USAGE;
  }

  private static int runServer() {
    Optional<Config> config = loadConfig();
    if (config.isEmpty()) {
      return EXIT_BAD_CONFIG;
    }
    // One node per JVM: when the cluster downs this node (Split Brain Resolver, or cut off from the
    // majority), the process must end. A downed node's shutdown can stall while its network is cut;
    // exit-jvm ends the process once the shutdown phases ran or timed out. Not in the demo, where
    // one downed member must not take the other nodes of the process with it.
    Config serverConfig = ConfigFactory.parseString("pekko.coordinated-shutdown.exit-jvm = on")
        .withFallback(config.get());
    try {
      TomaNode node =
          TomaNode.start(new NodePlan(TomaSettings.load(serverConfig), serverConfig, List.of()),
              SimulatedMachine.configured(serverConfig) ? NodeServices.simulated() : NodeServices.linux());
      node.http()
          .ifPresent(
              b -> System.out.println("Toma node " + node.nodeId() + " serving http://" + hostPort(b)));
      return awaitTermination(node.system());
    } catch (InvalidSettingsException e) {
      return reportProblems(e.problems());
    } catch (NodeStartException e) {
      System.err.println("toma: " + e.getMessage());
      return EXIT_BAD_CONFIG;
    }
  }

  /** How long the demo waits for its storage nodes to register before saying what is missing. */
  private static final java.time.Duration READY_TIMEOUT = java.time.Duration.ofSeconds(120);

  private static int runDemo() {
    Optional<Config> config = loadConfig();
    if (config.isEmpty()) {
      return EXIT_BAD_CONFIG;
    }
    List<NodePlan> plans;
    try {
      plans = DemoTopology.plans(config.get());
    } catch (InvalidSettingsException e) {
      return reportProblems(e.problems());
    }
    DemoCluster demo;
    try {
      demo = DemoCluster.start(plans);
    } catch (NodeStartException e) {
      System.err.println("toma: " + e.getMessage());
      return EXIT_BAD_CONFIG;
    }
    TomaNode front = demo.front();
    String url = "http://" + front.http().map(Main::hostPort).orElse("?");
    System.out.println(
        "Toma demo: " + demo.nodes().size() + " members, data in " + plans.get(0).settings().dataDir()
            + "; waiting for the storage nodes to register their disks (curl -s " + url + "/api/v1/health meanwhile)");
    List<String> missing = demo.awaitReady(READY_TIMEOUT);
    if (missing.isEmpty()) {
      System.out.println("Toma demo ready: every storage node registered its disks; try: ./toma volume create db1 --size 10GiB");
    } else {
      System.out.println("Toma demo: not ready after " + READY_TIMEOUT.toSeconds() + " s (" + String.join("; ", missing)
          + "); volumes are refused until these register");
    }
    System.out.println("API authentication is "
        + (front.plan().settings().api().authEnabled() ? "ON (bearer tokens from toma.api.tokens)" : "OFF (demo default)")
        + "; demo host NQN " + DemoHost.HOST_NQN + " (attach it to a volume to see data flow)");
    int exit = awaitTermination(front.system());
    // manager-1 stopped: whatever the reason, the demo is over.
    demo.stop();
    return exit;
  }

  private static String hostPort(org.apache.pekko.http.javadsl.ServerBinding binding) {
    return binding.localAddress().getHostString() + ":" + binding.localAddress().getPort();
  }

  private static Optional<Config> loadConfig() {
    try {
      return Optional.of(TomaConfig.load());
    } catch (ConfigException e) {
      System.err.println("toma: cannot read the configuration: " + e.getMessage());
      return Optional.empty();
    }
  }

  private static int reportProblems(List<SettingsProblem> problems) {
    System.err.println("toma: invalid configuration (" + problems.size() + " problem"
        + (problems.size() == 1 ? "" : "s") + "):");
    problems.forEach(p -> System.err.println("  " + p.message()));
    return EXIT_BAD_CONFIG;
  }

  /** Blocks until the system has terminated; 0 if that was asked for, else non-zero. */
  private static int awaitTermination(ActorSystem<?> system) {
    system.getWhenTerminated().toCompletableFuture().join();
    Optional<CoordinatedShutdown.Reason> reason = CoordinatedShutdown.get(system).getShutdownReason();
    boolean requested =
        reason.isEmpty()
            || reason.get() == CoordinatedShutdown.jvmExitReason()
            || reason.get() == CoordinatedShutdown.actorSystemTerminateReason();
    return requested ? 0 : EXIT_STOPPED_UNEXPECTEDLY;
  }
}
