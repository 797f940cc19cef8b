package io.toma.server;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.typesafe.config.Config;
import com.typesafe.config.ConfigFactory;
import io.toma.config.TomaConfig;
import io.toma.config.TomaSettings;
import java.io.IOException;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.apache.pekko.actor.testkit.typed.javadsl.ActorTestKit;
import org.apache.pekko.actor.testkit.typed.javadsl.TestProbe;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** A whole node as `toma server` starts it: cluster member, journal, HTTP API. */
class TomaNodeTest {
  private static final Duration PATIENCE = Duration.ofSeconds(30);

  private static int freePort() throws IOException {
    try (ServerSocket socket = new ServerSocket(0)) {
      return socket.getLocalPort();
    }
  }

  private static NodePlan plan(Path dataDir, int clusterPort) {
    Config config =
        ConfigFactory.parseString(
                "toma { data-dir = \"" + dataDir + "\", http.port = 0, node.roles = [manager],\n"
                    + "cluster { canonical-port = " + clusterPort
                    + ", seed-nodes = [\"127.0.0.1:" + clusterPort + "\"] } }\n"
                    + "pekko.jvm-shutdown-hooks = off")
            .withFallback(TomaConfig.load());
    return new NodePlan(TomaSettings.load(config), config, List.of());
  }

  private static final ActorTestKit testKit = ActorTestKit.create();

  @AfterAll
  static void stopTestKit() {
    testKit.shutdownTestKit();
  }

  private static JsonNode awaitSelfUp(TomaNode node) {
    int port = node.http().orElseThrow().localAddress().getPort();
    HttpClient client = HttpClient.newHttpClient();
    TestProbe<Object> probe = testKit.createTestProbe();
    return probe.awaitAssert(
          PATIENCE,
          () -> {
            try {
              HttpResponse<String> response =
                  client.send(
                      HttpRequest.newBuilder(
                              URI.create("http://127.0.0.1:" + port + "/api/v1/health"))
                          .build(),
                      HttpResponse.BodyHandlers.ofString());
              JsonNode health = new ObjectMapper().readTree(response.body());
              assertEquals("up", health.get("self").get("status").asText());
              return health;
            } catch (IOException | InterruptedException e) {
              throw new AssertionError(e);
            }
          });
  }

  @Test
  void aNodeStartsServesItsHealthStopsAndFindsItsJournalOnTheNextStart(@TempDir Path dataDir)
      throws Exception {
    int clusterPort = freePort();
    TomaNode first = TomaNode.start(plan(dataDir, clusterPort), NodeServices.linux());
    try {
      JsonNode health = awaitSelfUp(first);
      assertEquals(1, health.get("members").size());
      assertEquals(
          "[\"manager\"]", health.get("self").get("roles").toString());
    } finally {
      first.stop().toCompletableFuture().get(60, TimeUnit.SECONDS);
    }
    assertTrue(Files.exists(dataDir.resolve("journal.mv.db")), "journal under the data dir");

    TomaNode second = TomaNode.start(plan(dataDir, freePort()), NodeServices.linux());
    try {
      awaitSelfUp(second);
    } finally {
      second.stop().toCompletableFuture().get(60, TimeUnit.SECONDS);
    }
    assertFalse(Files.exists(dataDir.resolve("journal.trace.db")), "no H2 error on restart");
  }
}
