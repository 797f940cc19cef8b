package io.toma.cli;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import io.toma.api.Json;
import io.toma.api.Sizes;
import java.io.BufferedReader;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.io.OutputStreamWriter;
import java.io.PrintStream;
import java.io.PrintWriter;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.Callable;
import java.util.function.Consumer;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Model.OptionSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/**
 * {@code toma}: the operator's command line over the HTTP API. Human tables by default, {@code -o
 * json} for scripts. Exit codes: 0 done, 1 the server refused or could not be reached (its detail
 * is printed), 2 the command line itself is wrong (the option is named).
 */
@Command(name = "toma", mixinStandardHelpOptions = true, version = "toma 0.1.0",
    description = "Operate a Toma cluster: volumes, nodes, cluster health and events.",
    subcommands = {TomaCli.Volume.class, TomaCli.Node.class, TomaCli.Cluster.class, TomaCli.Events.class})
public final class TomaCli implements Runnable {

  public static final String DEFAULT_SERVER = "http://127.0.0.1:8080";

  @Spec CommandSpec spec;

  public static void main(String[] args) {
    System.exit(run(args, System.out, System.err));
  }

  /** Runs one command line; the server and token default to TOMA_SERVER and TOMA_TOKEN. */
  public static int run(String[] args, PrintStream out, PrintStream err) {
    return run(args, out, err, System.getenv());
  }

  /** As {@link #run(String[], PrintStream, PrintStream)}, with the environment given (for tests). */
  public static int run(String[] args, PrintStream out, PrintStream err, Map<String, String> env) {
    PrintWriter o = new PrintWriter(new OutputStreamWriter(out, StandardCharsets.UTF_8), true);
    PrintWriter e = new PrintWriter(new OutputStreamWriter(err, StandardCharsets.UTF_8), true);
    CommandLine cli = new CommandLine(new TomaCli())
        .setOut(o)
        .setErr(e)
        .setCaseInsensitiveEnumValuesAllowed(true)
        .setExecutionExceptionHandler((ex, cmd, parsed) -> {
          cmd.getErr().println("error: " + ex.getMessage());
          return 1;
        });
    cli.setDefaultValueProvider(arg -> {
      if (arg instanceof OptionSpec opt) {
        return switch (opt.longestName()) {
          case "--server" -> env.getOrDefault("TOMA_SERVER", DEFAULT_SERVER);
          case "--token" -> env.get("TOMA_TOKEN");
          default -> null;
        };
      }
      return null;
    });
    int code = cli.execute(args);
    o.flush();
    e.flush();
    return code;
  }

  @Override
  public void run() {
    spec.commandLine().usage(spec.commandLine().getOut());
  }

  enum Format { table, json }

  /** Options every command that talks to the server takes. */
  static final class Connection {
    @Option(names = "--server", paramLabel = "URL", description = "API base URL (env TOMA_SERVER; default " + DEFAULT_SERVER + ")")
    String server;

    @Option(names = "--token", paramLabel = "TOKEN", description = "bearer token (env TOMA_TOKEN)")
    String token;

    @Option(names = {"-o", "--output"}, paramLabel = "FORMAT", defaultValue = "table",
        description = "table (default) or json")
    Format output;
  }

  /** One call to the server and how its answer is shown. */
  abstract static class ApiCommand implements Callable<Integer> {
    @Mixin Connection connection;
    @Spec CommandSpec spec;

    PrintWriter out() {
      return spec.commandLine().getOut();
    }

    PrintWriter err() {
      return spec.commandLine().getErr();
    }

    abstract int execute(TomaClient client) throws TomaClient.Unreachable;

    @Override
    public Integer call() {
      try {
        return execute(new TomaClient(connection.server, Optional.ofNullable(connection.token)));
      } catch (TomaClient.Unreachable u) {
        err().println("error: " + u.getMessage());
        return 1;
      }
    }

    /** Prints the answer (JSON as it came, or the human rendering), or the server's detail on failure. */
    int show(TomaClient.Answer a, Consumer<JsonNode> human) {
      if (!a.ok()) {
        err().println("error: " + a.errorMessage());
        return 1;
      }
      if (connection.output == Format.json) {
        out().println(a.contentType().startsWith("application/json") ? pretty(a.json()) : a.body());
      } else {
        human.accept(a.json());
      }
      return 0;
    }

    CommandLine.ParameterException badOption(String option, String why) {
      return new CommandLine.ParameterException(spec.commandLine(), "Invalid value for option '" + option + "': " + why);
    }

    long size(String option, String text) {
      var parsed = Sizes.parse(option, text);
      if (parsed instanceof io.toma.api.ApiResult.Ok<Long> ok) {
        return ok.value();
      }
      throw badOption(option, ((io.toma.api.ApiResult.Invalid<Long>) parsed).detail());
    }
  }

  static String pretty(JsonNode node) {
    try {
      return Json.MAPPER.writerWithDefaultPrettyPrinter().writeValueAsString(node);
    } catch (JsonProcessingException e) {
      return node.toString();
    }
  }

  // ---------------------------------------------------------------- volumes

  @Command(name = "volume", description = "Create, list, show, delete, attach, detach and resize volumes.",
      subcommands = {VolumeCreate.class, VolumeList.class, VolumeShow.class, VolumeDelete.class, VolumeAttach.class,
          VolumeDetach.class, VolumeResize.class})
  static final class Volume implements Runnable {
    @Spec CommandSpec spec;

    @Override
    public void run() {
      throw new CommandLine.ParameterException(spec.commandLine(), "Missing subcommand: create, list, show, delete, attach, detach or resize");
    }
  }

  @Command(name = "create", description = "Create a volume (idempotent: the same name and spec returns the existing one).")
  static final class VolumeCreate extends ApiCommand {
    @Parameters(index = "0", paramLabel = "NAME") String name;
    @Option(names = "--size", required = true, paramLabel = "SIZE", description = "bytes or e.g. 100GiB") String size;
    @Option(names = "--legs", paramLabel = "N", defaultValue = "1", description = "raid1 legs striped together (default 1)") int legs;
    @Option(names = "--replicas", paramLabel = "N", defaultValue = "2", description = "replicas per leg, 1-3 (default 2)") int replicas;
    @Option(names = "--standby", paramLabel = "N", defaultValue = "1", description = "standby controllers (default 1)") int standby;
    @Option(names = "--failure-domain", paramLabel = "DOMAIN", defaultValue = "node", description = "node, rack or zone (default node)") String domain;

    @Override
    int execute(TomaClient client) throws TomaClient.Unreachable {
      Map<String, Object> body = new LinkedHashMap<>();
      body.put("name", name);
      body.put("size", size("--size", size));
      body.put("layout", Map.of("legs", legs, "replicas", replicas, "standbyControllers", standby));
      body.put("failureDomain", domain);
      var a = client.call("POST", "/api/v1/volumes", Optional.of(body));
      return show(a, v -> {
        out().println((a.status() == 201 ? "created volume " : "volume already exists: ") + v.path("name").asText()
            + " (" + v.path("id").asText() + ")");
        VolumeRendering.detail(out(), v);
      });
    }
  }

  @Command(name = "list", description = "List volumes.")
  static final class VolumeList extends ApiCommand {
    @Option(names = "--limit", paramLabel = "N", defaultValue = "100", description = "page size (1-1000)") int limit;
    @Option(names = "--offset", paramLabel = "N", defaultValue = "0", description = "first volume to show") int offset;

    @Override
    int execute(TomaClient client) throws TomaClient.Unreachable {
      var a = client.call("GET", "/api/v1/volumes?limit=" + limit + "&offset=" + offset, Optional.empty());
      return show(a, page -> {
        Table t = new Table("ID", "NAME", "SIZE", "HEALTH", "LAYOUT", "HOSTS");
        for (JsonNode v : page.path("items")) {
          t.row(v.path("id").asText(), v.path("name").asText(), Sizes.human(v.path("sizeBytes").asLong()),
              VolumeRendering.health(v), VolumeRendering.layout(v), v.path("attachments").size());
        }
        t.print(out());
        int shown = page.path("items").size();
        int total = page.path("total").asInt();
        if (offset + shown < total) {
          out().println("(" + shown + " of " + total + "; next page: --offset " + (offset + shown) + ")");
        }
      });
    }
  }

  @Command(name = "show", description = "Show one volume with its legs, replicas and controllers.")
  static final class VolumeShow extends ApiCommand {
    @Parameters(index = "0", paramLabel = "ID") String id;

    @Override
    int execute(TomaClient client) throws TomaClient.Unreachable {
      return show(client.call("GET", "/api/v1/volumes/" + TomaClient.segment(id), Optional.empty()),
          v -> VolumeRendering.detail(out(), v));
    }
  }

  @Command(name = "delete", description = "Delete a volume.")
  static final class VolumeDelete extends ApiCommand {
    @Parameters(index = "0", paramLabel = "ID") String id;

    @Override
    int execute(TomaClient client) throws TomaClient.Unreachable {
      return show(client.call("DELETE", "/api/v1/volumes/" + TomaClient.segment(id), Optional.empty()),
          v -> out().println("deleting volume " + v.path("name").asText() + " (" + v.path("id").asText() + ")"));
    }
  }

  @Command(name = "attach", description = "Allow a host (NVMe host NQN) to connect to a volume.")
  static final class VolumeAttach extends ApiCommand {
    @Parameters(index = "0", paramLabel = "ID") String id;
    @Parameters(index = "1", paramLabel = "HOST_NQN") String hostNqn;

    @Override
    int execute(TomaClient client) throws TomaClient.Unreachable {
      return show(client.call("POST", "/api/v1/volumes/" + TomaClient.segment(id) + "/attachments",
          Optional.of(Map.of("hostNqn", hostNqn))), v -> out().println("attached " + hostNqn + " to " + v.path("name").asText()));
    }
  }

  @Command(name = "detach", description = "Revoke a host's access to a volume.")
  static final class VolumeDetach extends ApiCommand {
    @Parameters(index = "0", paramLabel = "ID") String id;
    @Parameters(index = "1", paramLabel = "HOST_NQN") String hostNqn;

    @Override
    int execute(TomaClient client) throws TomaClient.Unreachable {
      return show(client.call("DELETE", "/api/v1/volumes/" + TomaClient.segment(id) + "/attachments/"
          + TomaClient.segment(hostNqn), Optional.empty()), v -> out().println("detached " + hostNqn + " from " + v.path("name").asText()));
    }
  }

  @Command(name = "resize", description = "Grow a volume (shrinking is refused).")
  static final class VolumeResize extends ApiCommand {
    @Parameters(index = "0", paramLabel = "ID") String id;
    @Option(names = "--size", required = true, paramLabel = "SIZE", description = "new size: bytes or e.g. 200GiB") String size;

    @Override
    int execute(TomaClient client) throws TomaClient.Unreachable {
      long bytes = size("--size", size);
      return show(client.call("POST", "/api/v1/volumes/" + TomaClient.segment(id) + "/resize",
          Optional.of(Map.of("size", bytes))), v -> out().println("resized " + v.path("name").asText() + " to "
          + Sizes.human(v.path("sizeBytes").asLong())));
    }
  }

  // ---------------------------------------------------------------- nodes

  @Command(name = "node", description = "List, cordon, uncordon, drain nodes and show their plans.",
      subcommands = {NodeList.class, NodeCordon.class, NodeUncordon.class, NodeDrain.class, NodePlan.class})
  static final class Node implements Runnable {
    @Spec CommandSpec spec;

    @Override
    public void run() {
      throw new CommandLine.ParameterException(spec.commandLine(), "Missing subcommand: list, cordon, uncordon, drain or plan");
    }
  }

  @Command(name = "list", description = "List nodes with their status and disks.")
  static final class NodeList extends ApiCommand {
    @Override
    int execute(TomaClient client) throws TomaClient.Unreachable {
      return show(client.call("GET", "/api/v1/nodes", Optional.empty()), nodes -> {
        Table t = new Table("ID", "ROLES", "ZONE", "RACK", "STATUS", "SCHEDULING", "DISKS", "FREE", "SIZE");
        for (JsonNode n : nodes) {
          long size = 0;
          long free = 0;
          int failed = 0;
          for (JsonNode d : n.path("disks")) {
            size += d.path("sizeBytes").asLong();
            free += d.path("freeBytes").asLong();
            failed += "ok".equals(d.path("state").asText()) ? 0 : 1;
          }
          t.row(n.path("id").asText(), String.join(",", Json.MAPPER.convertValue(n.path("roles"), String[].class)),
              n.path("zone").asText(), n.path("rack").asText(), n.path("status").asText(),
              n.path("cordoned").asBoolean() ? "cordoned" : "schedulable",
              n.path("disks").size() + (failed > 0 ? " (" + failed + " failed)" : ""), Sizes.human(free), Sizes.human(size));
        }
        t.print(out());
      });
    }
  }

  abstract static class NodeAction extends ApiCommand {
    @Parameters(index = "0", paramLabel = "NODE") String node;

    abstract String action();

    @Override
    int execute(TomaClient client) throws TomaClient.Unreachable {
      return show(client.call("POST", "/api/v1/nodes/" + TomaClient.segment(node) + "/" + action(), Optional.empty()),
          n -> out().println(switch (action()) {
            case "cordon" -> "cordoned " + node + ": nothing new will be placed on it";
            case "uncordon" -> "uncordoned " + node + ": it takes new replicas and controllers again";
            default -> "draining " + node + ": its replicas and controllers move elsewhere (follow with 'toma events')";
          }));
    }
  }

  @Command(name = "cordon", description = "Place nothing new on a node.")
  static final class NodeCordon extends NodeAction {
    String action() {
      return "cordon";
    }
  }

  @Command(name = "uncordon", description = "Allow placement on a node again.")
  static final class NodeUncordon extends NodeAction {
    String action() {
      return "uncordon";
    }
  }

  @Command(name = "drain", description = "Cordon a node and move everything it holds elsewhere.")
  static final class NodeDrain extends NodeAction {
    String action() {
      return "drain";
    }
  }

  @Command(name = "plan", description = "Show the dry-run shell plan for a node.")
  static final class NodePlan extends ApiCommand {
    @Parameters(index = "0", paramLabel = "NODE") String node;

    @Override
    int execute(TomaClient client) throws TomaClient.Unreachable {
      var a = client.call("GET", "/api/v1/nodes/" + TomaClient.segment(node) + "/plan", Optional.empty());
      if (!a.ok()) {
        return show(a, x -> { });
      }
      if (connection.output == Format.json) {
        out().println(pretty(Json.MAPPER.createObjectNode().put("node", node).put("plan", a.body())));
      } else {
        out().print(a.body());
        out().flush();
      }
      return 0;
    }
  }

  // ---------------------------------------------------------------- cluster

  @Command(name = "cluster", description = "Cluster health.", subcommands = {ClusterStatus.class})
  static final class Cluster implements Runnable {
    @Spec CommandSpec spec;

    @Override
    public void run() {
      throw new CommandLine.ParameterException(spec.commandLine(), "Missing subcommand: status");
    }
  }

  @Command(name = "status", description = "Members, unreachable members, volumes by state, repairs under way.")
  static final class ClusterStatus extends ApiCommand {
    @Override
    int execute(TomaClient client) throws TomaClient.Unreachable {
      return show(client.call("GET", "/api/v1/cluster", Optional.empty()), c -> {
        int up = c.path("members").size();
        int unreachable = c.path("unreachableMembers").size();
        out().println("members:     " + up + (unreachable == 0 ? ", all reachable"
            : ", " + unreachable + " unreachable: " + String.join(", ", Json.MAPPER.convertValue(c.path("unreachableMembers"), String[].class))));
        StringBuilder counts = new StringBuilder();
        for (String state : new String[] {"Online", "Degraded", "Rebuilding", "Provisioning", "Deleting"}) {
          int n = c.path("volumesByState").path(state).asInt();
          if (n > 0) {
            counts.append(counts.length() == 0 ? "" : ", ").append(n).append(' ').append(state.toLowerCase());
          }
        }
        out().println("volumes:     " + (counts.length() == 0 ? "none" : counts));
        int degraded = c.path("volumesByState").path("Degraded").asInt();
        int rebuilding = c.path("volumesByState").path("Rebuilding").asInt();
        out().println("health:      " + (unreachable > 0 || degraded > 0 ? "degraded"
            : rebuilding > 0 || c.path("repairs").size() > 0 ? "repairing" : "healthy"));
        if (c.path("repairs").size() == 0) {
          out().println("repairs:     none");
        } else {
          out().println("repairs:");
          Table t = new Table("VOLUME", "KIND", "STEP", "PROGRESS");
          for (JsonNode r : c.path("repairs")) {
            t.row(r.path("volumeId").asText(), r.path("kind").asText(), r.path("step").asText(), r.path("progressPercent").asInt() + "%");
          }
          t.print(out());
        }
      });
    }
  }

  // ---------------------------------------------------------------- events

  @Command(name = "events", description = "Print volume state changes, faults detected and repair steps as they happen.")
  static final class Events extends ApiCommand {
    @Option(names = {"-f", "--follow"}, description = "keep following: reconnect when the stream ends") boolean follow;
    @Option(names = "--count", paramLabel = "N", description = "stop after N events") Optional<Integer> count;

    private static final DateTimeFormatter TIME = DateTimeFormatter.ofPattern("HH:mm:ss").withZone(ZoneOffset.UTC);

    @Override
    int execute(TomaClient client) throws TomaClient.Unreachable {
      if (count.isPresent() && count.get() < 1) {
        throw badOption("--count", "must be at least 1, got " + count.get());
      }
      int seen = 0;
      do {
        HttpResponse<InputStream> r = client.stream("/api/v1/events");
        if (r.statusCode() != 200) {
          try (InputStream in = r.body()) {
            err().println("error: " + new TomaClient.Answer(r.statusCode(), "", new String(in.readAllBytes(), StandardCharsets.UTF_8)).errorMessage());
          } catch (java.io.IOException e) {
            err().println("error: HTTP " + r.statusCode());
          }
          return 1;
        }
        try (BufferedReader in = new BufferedReader(new InputStreamReader(r.body(), StandardCharsets.UTF_8))) {
          String type = "message";
          String line;
          while ((line = in.readLine()) != null) {
            if (line.startsWith("event:")) {
              type = line.substring(6).strip();
            } else if (line.startsWith("data:")) {
              print(type, line.substring(5).strip());
              seen++;
              if (count.isPresent() && seen >= count.get()) {
                return 0;
              }
            }
          }
        } catch (java.io.IOException e) {
          if (!follow) {
            err().println("error: the event stream broke: " + e.getMessage());
            return 1;
          }
        }
      } while (follow);
      return 0;
    }

    private void print(String type, String data) {
      if (connection.output == Format.json) {
        out().println(data);
        return;
      }
      JsonNode e;
      try {
        e = Json.MAPPER.readTree(data);
      } catch (JsonProcessingException ex) {
        out().println(type + "  " + data);
        return;
      }
      out().println(TIME.format(Instant.ofEpochMilli(e.path("timestampMillis").asLong())) + "  " + String.format("%-14s", type)
          + "  " + String.format("%-10s", e.path("subject").asText()) + "  " + e.path("message").asText());
    }
  }
}
