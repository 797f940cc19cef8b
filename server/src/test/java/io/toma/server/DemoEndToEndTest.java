package io.toma.server;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.typesafe.config.Config;
import com.typesafe.config.ConfigFactory;
import io.toma.config.TomaConfig;
import io.toma.kernel.KernelException;
import io.toma.kernel.KernelState;
import io.toma.kernel.Names;
import io.toma.kernel.sim.SimNode;
import java.io.IOException;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.apache.pekko.actor.testkit.typed.javadsl.ActorTestKit;
import org.apache.pekko.actor.testkit.typed.javadsl.TestProbe;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The demo end to end, in one process: one manager and four storage nodes (two disk nodes, two
 * controller nodes, in two racks), each its own ActorSystem on a free loopback port, with real
 * agents on simulated kernels and the demo host. Everything goes through the HTTP API.
 */
class DemoEndToEndTest {
  private static final Duration PATIENCE = Duration.ofSeconds(90);
  private static final ObjectMapper JSON = new ObjectMapper();
  private static final ActorTestKit testKit = ActorTestKit.create();
  private final HttpClient http = HttpClient.newHttpClient();

  @AfterAll
  static void stopTestKit() {
    testKit.shutdownTestKit();
  }

  private static int freePort() throws IOException {
    try (ServerSocket socket = new ServerSocket(0)) {
      return socket.getLocalPort();
    }
  }

  static List<DemoTopology.DemoNode> smallLayout() {
    return List.of(
        new DemoTopology.DemoNode("manager-1", List.of("manager"), DemoTopology.MANAGER_RACK, List.of()),
        new DemoTopology.DemoNode("node-1", List.of("disk"), "r1",
            List.of(new SimulatedDisk("node-1-nvme0", SimulatedDisk.TIB))),
        new DemoTopology.DemoNode("node-2", List.of("controller"), "r1", List.of()),
        new DemoTopology.DemoNode("node-3", List.of("disk"), "r2",
            List.of(new SimulatedDisk("node-3-nvme0", 2 * SimulatedDisk.TIB))),
        new DemoTopology.DemoNode("node-4", List.of("controller"), "r2", List.of()));
  }

  /** The small layout on free loopback ports, its data under {@code dataDir}: the same plans start it again. */
  private record Small(List<NodePlan> plans, int httpPort) {
    static Small on(Path dataDir) throws IOException {
      List<Integer> ports = new ArrayList<>();
      for (int i = 0; i < 5; i++) {
        ports.add(freePort());
      }
      int httpPort = freePort();
      Config base = ConfigFactory.parseString("toma.data-dir = \"" + dataDir + "\"").withFallback(TomaConfig.load());
      return new Small(DemoTopology.plans(base, smallLayout(), ports::get, m -> httpPort), httpPort);
    }

    String api() {
      return "http://127.0.0.1:" + httpPort + "/api/v1";
    }
  }

  @Test
  void aVolumeCreatedOverHttpCarriesTheDemoHostsDataAndLeavesNothingBehindWhenDeleted(@TempDir Path dataDir)
      throws Exception {
    Small small = Small.on(dataDir);
    List<NodePlan> plans = small.plans();
    DemoCluster demo = DemoCluster.start(plans);
    String api = small.api();
    try {
      // once the demo says ready, a volume can be created at once (no "no disk registered")
      assertEquals(List.of(), demo.awaitReady(PATIENCE), "every storage node registered its disks");
      await(() -> {
        JsonNode nodes = call("GET", api + "/nodes", null, 200);
        assertEquals(4, nodes.size(), nodes.toString());
        nodes.forEach(n -> assertEquals("up", n.get("status").asText(), n.toString()));
        return null;
      });

      JsonNode created = call("POST", api + "/volumes",
          "{\"name\":\"e2e\",\"size\":\"1GiB\",\"layout\":{\"legs\":1,\"replicas\":2,\"standbyControllers\":1},"
              + "\"failureDomain\":\"rack\"}", 201);
      assertEquals("e2e", created.get("id").asText());
      awaitState(api, "e2e", "Online");

      JsonNode attached = call("POST", api + "/volumes/e2e/attachments",
          "{\"hostNqn\":\"" + DemoHost.HOST_NQN + "\"}", 200);
      assertEquals(DemoHost.HOST_NQN, attached.get("attachments").get(0).asText());
      awaitState(api, "e2e", "Online");

      // The demo host found the volume on its controllers and its writes read back as written.
      DemoHost host = demo.world().host();
      await(() -> {
        assertTrue(host.volumes().contains(Names.NQN_PREFIX + "e2e"), "host volumes: " + host.volumes());
        assertTrue(host.counters().readsVerified() >= 20, host.counters().toString());
        return null;
      });
      assertEquals(0, host.counters().mismatches(), host.counters().toString());
      String metrics = text(api.replace("/api/v1", "") + "/metrics");
      assertTrue(metricValue(metrics, "toma_demo_host_reads_verified_total") > 0, metrics);

      call("DELETE", api + "/volumes/e2e", null, -1);
      await(() -> {
        HttpResponse<String> gone = send("GET", api + "/volumes/e2e", null);
        assertEquals(404, gone.statusCode(), gone.body());
        assertEquals(List.of(), tomaObjects(demo));
        return null;
      });
      assertEquals(0, host.counters().mismatches(), host.counters().toString());
    } finally {
      demo.stop();
    }
  }

  @Test
  void aDemoStoppedAndStartedAgainFindsItsVolumeWhereItWasWithNoFailoverFromTheStop(@TempDir Path dataDir)
      throws Exception {
    Small small = Small.on(dataDir);
    List<NodePlan> plans = small.plans();
    String api = small.api();
    JsonNode before;
    DemoCluster demo = DemoCluster.start(plans);
    try {
      assertEquals(List.of(), demo.awaitReady(PATIENCE), "every storage node registered its disks");
      call("POST", api + "/volumes", "{\"name\":\"kept\",\"size\":\"1GiB\",\"layout\":{\"legs\":1,"
          + "\"replicas\":2,\"standbyControllers\":1},\"failureDomain\":\"rack\"}", 201);
      awaitState(api, "kept", "Online");
      before = call("GET", api + "/volumes/kept", null, 200);
    } finally {
      demo.stop(); // a graceful stop: the storage nodes' departure must not read as their loss
    }

    DemoCluster again = DemoCluster.start(plans);
    try {
      assertEquals(List.of(), again.awaitReady(PATIENCE), "every storage node registered its disks again");
      awaitState(api, "kept", "Online");
      JsonNode after = call("GET", api + "/volumes/kept", null, 200);
      assertEquals(before.get("epoch").asLong(), after.get("epoch").asLong(),
          "no failover was persisted while the demo stopped: " + after);
      assertEquals(controllerRoles(before), controllerRoles(after), after.toString());
    } finally {
      again.stop();
    }
  }

  private static List<String> controllerRoles(JsonNode volume) {
    List<String> roles = new ArrayList<>();
    volume.path("controllers").forEach(c -> roles.add(c.path("node").asText() + " " + c.path("role").asText()));
    return roles;
  }

  /** Every Toma object any simulated kernel still holds, the demo host's included. */
  private static List<String> tomaObjects(DemoCluster demo) {
    List<String> found = new ArrayList<>();
    for (SimNode node : demo.world().cluster().nodes()) {
      KernelState s;
      try {
        s = node.kernel().read();
      } catch (KernelException e) {
        throw new AssertionError(e);
      }
      s.dmDevices().keySet().stream().filter(n -> n.startsWith(Names.PREFIX)).forEach(n -> found.add(node.id() + " dm " + n));
      s.subsystems().keySet().stream().filter(n -> n.startsWith(Names.NQN_PREFIX))
          .forEach(n -> found.add(node.id() + " subsystem " + n));
      s.ports().values().stream().filter(p -> !p.subsystems().isEmpty())
          .forEach(p -> found.add(node.id() + " port " + p.portId() + " exporting " + p.subsystems()));
      s.controllers().stream().filter(c -> c.subsystemNqn().startsWith(Names.NQN_PREFIX))
          .forEach(c -> found.add(node.id() + " controller of " + c.subsystemNqn()));
    }
    return found;
  }

  private static double metricValue(String metrics, String name) {
    Matcher m = Pattern.compile("(?m)^" + name + "(?:\\{[^}]*\\})? ([0-9.eE+-]+)$").matcher(metrics);
    return m.find() ? Double.parseDouble(m.group(1)) : -1;
  }

  private void awaitState(String api, String volume, String state) {
    await(() -> {
      JsonNode v = call("GET", api + "/volumes/" + volume, null, 200);
      assertEquals(state, v.get("state").asText(), v.toString());
      return null;
    });
  }

  private static <T> T await(org.apache.pekko.japi.function.Creator<T> check) {
    TestProbe<Object> probe = testKit.createTestProbe();
    return probe.awaitAssert(PATIENCE, Duration.ofMillis(250), () -> {
      try {
        return check.create();
      } catch (AssertionError e) {
        throw e;
      } catch (Exception e) {
        throw new AssertionError(e);
      }
    });
  }

  private JsonNode call(String method, String url, String body, int expectedStatus) throws IOException, InterruptedException {
    HttpResponse<String> r = send(method, url, body);
    if (expectedStatus > 0) {
      assertEquals(expectedStatus, r.statusCode(), method + " " + url + ": " + r.body());
    } else {
      assertTrue(r.statusCode() < 300, method + " " + url + ": " + r.statusCode() + " " + r.body());
    }
    return JSON.readTree(r.body());
  }

  private String text(String url) throws IOException, InterruptedException {
    return send("GET", url, null).body();
  }

  private HttpResponse<String> send(String method, String url, String body) throws IOException, InterruptedException {
    HttpRequest.Builder b = HttpRequest.newBuilder(URI.create(url)).timeout(Duration.ofSeconds(30));
    if (body != null) {
      b.header("Content-Type", "application/json");
    }
    b.method(method, body == null ? HttpRequest.BodyPublishers.noBody() : HttpRequest.BodyPublishers.ofString(body));
    return http.send(b.build(), HttpResponse.BodyHandlers.ofString());
  }
}
