package io.toma.api.health;

import static org.junit.jupiter.api.Assertions.assertEquals;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.typesafe.config.Config;
import com.typesafe.config.ConfigFactory;
import io.toma.config.ClusterConfig;
import io.toma.config.TomaConfig;
import io.toma.config.TomaSettings;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.apache.pekko.actor.testkit.typed.javadsl.ActorTestKit;
import org.apache.pekko.actor.testkit.typed.javadsl.TestProbe;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.cluster.MemberStatus;
import org.apache.pekko.cluster.typed.Cluster;
import org.apache.pekko.cluster.typed.Join;
import org.apache.pekko.http.javadsl.Http;
import org.apache.pekko.http.javadsl.ServerBinding;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;

/** Two real cluster members on loopback; the health endpoint of one lists both. */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class HealthRouteTest {
  private static final Duration PATIENCE = Duration.ofSeconds(30);

  private final List<ActorTestKit> nodes = new ArrayList<>();
  private int httpPort;

  private static Config member(String nodeId, String roles, String rack) {
    Config base =
        ConfigFactory.parseString(
                "toma.node { id = " + nodeId + ", roles = " + roles + ", zone = z1, rack = " + rack + " }\n"
                    + "toma.cluster.canonical-port = 0")
            .withFallback(TomaConfig.load());
    // Port 0: the OS picks a free port; members join explicitly instead of through seed nodes.
    // Both members share this JVM: a long pause of a busy build machine must not make them
    // unreachable to each other (the production failure detector allows only 1 s).
    return ConfigFactory.parseString(
            "pekko.cluster.seed-nodes = []\n"
                + "pekko.cluster.failure-detector.acceptable-heartbeat-pause = 10s")
        .withFallback(ClusterConfig.forNode(TomaSettings.load(base), base));
  }

  @BeforeAll
  void startTwoMembersAndTheRoute() throws Exception {
    ActorTestKit manager = ActorTestKit.create("toma", member("manager-1", "[manager]", "r1"));
    nodes.add(manager);
    Cluster managerCluster = Cluster.get(manager.system());
    managerCluster.manager().tell(Join.create(managerCluster.selfMember().address()));

    ActorTestKit storage =
        ActorTestKit.create("toma", member("node-1", "[disk, controller]", "r2"));
    nodes.add(storage);
    Cluster.get(storage.system()).manager().tell(Join.create(managerCluster.selfMember().address()));

    TestProbe<Object> probe = manager.createTestProbe();
    probe.awaitAssert(
        PATIENCE,
        () -> {
          long up =
              java.util.stream.StreamSupport.stream(
                      managerCluster.state().getMembers().spliterator(), false)
                  .filter(m -> m.status() == MemberStatus.up())
                  .count();
          assertEquals(2, up);
          return null;
        });

    ActorSystem<?> system = manager.system();
    ServerBinding binding =
        Http.get(system)
            .newServerAt("127.0.0.1", 0)
            .bind(HealthRoute.create(system))
            .toCompletableFuture()
            .get(30, TimeUnit.SECONDS);
    httpPort = binding.localAddress().getPort();
  }

  @AfterAll
  void stopMembers() {
    for (int i = nodes.size() - 1; i >= 0; i--) {
      nodes.get(i).shutdownTestKit();
    }
  }

  private JsonNode getHealth() throws Exception {
    HttpResponse<String> response =
        HttpClient.newHttpClient()
            .send(
                HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + httpPort + "/api/v1/health"))
                    .timeout(PATIENCE)
                    .build(),
                HttpResponse.BodyHandlers.ofString());
    assertEquals(200, response.statusCode());
    assertEquals("application/json", response.headers().firstValue("content-type").orElse(""));
    return new ObjectMapper().readTree(response.body());
  }

  @Test
  void healthListsEveryMemberWithItsRolesZoneRackAndStatus() throws Exception {
    JsonNode health = getHealth();
    assertEquals("ok", health.get("status").asText());
    assertEquals(0, health.get("unreachable").size());

    List<String> seen = new ArrayList<>();
    for (JsonNode member : health.get("members")) {
      seen.add(
          member.get("roles").toString() + " " + member.get("zone").asText() + "/"
              + member.get("rack").asText() + " " + member.get("status").asText());
    }
    seen.sort(null);
    assertEquals(
        List.of("[\"controller\",\"disk\"] z1/r2 up", "[\"manager\"] z1/r1 up"), seen);
  }

  @Test
  void healthNamesTheAnsweringNodeAsSelf() throws Exception {
    JsonNode self = getHealth().get("self");
    assertEquals("[\"manager\"]", self.get("roles").toString());
    assertEquals(
        Cluster.get(nodes.get(0).system()).selfMember().address().toString(),
        self.get("address").asText());
  }
}
