package io.toma.systemtest;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigFactory;
import io.toma.config.HostPort;
import io.toma.config.Role;
import io.toma.config.TomaConfig;
import io.toma.config.TomaSettings;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Test;

/** The file each test node starts with is a configuration the server accepts, saying what we mean. */
class NodeConfigFileTest {
  private static final String DOWNING_OVERRIDES =
      "pekko.coordinated-shutdown.reason-overrides.\"org.apache.pekko.actor.CoordinatedShutdown$ClusterDowningReason$\"";

  private final Endpoint self = new Endpoint("10.201.0.2", 2551, 8080);
  private final List<Endpoint> seeds =
      List.of(new Endpoint("10.201.0.1", 2551, 8080), self, new Endpoint("10.201.0.3", 2551, 8080));
  private final Config config =
      ConfigFactory.parseString(
              NodeConfigFile.render(
                  new NodeSpec(2, "n2", List.of("manager", "disk", "controller"), "z1", "r2"),
                  self,
                  seeds,
                  new JournalDatabase("jdbc:postgresql://10.201.0.254:5432/toma", "toma", "se\"cret"),
                  Path.of("/tmp/n2 data")))
          // As TomaConfig.load() layers an application file over the cluster defaults.
          .withFallback(ConfigFactory.parseResources(TomaConfig.CLUSTER_DEFAULTS))
          .withFallback(ConfigFactory.defaultReference())
          .resolve();

  @Test
  void a_test_node_is_a_valid_toma_node_on_the_shared_postgres_journal() {
    TomaSettings settings = TomaSettings.load(config);
    assertEquals("n2", settings.node().id());
    assertEquals(Set.of(Role.MANAGER, Role.DISK, Role.CONTROLLER), settings.node().roles());
    assertEquals(new HostPort("10.201.0.2", 2551), settings.cluster().canonical());
    assertEquals(3, settings.cluster().seedNodes().size());
    assertEquals(TomaSettings.JournalKind.POSTGRES, settings.journal().kind());
    assertEquals("se\"cret", settings.journal().password());
    assertEquals(Path.of("/tmp/n2 data"), settings.dataDir());
  }

  @Test
  void a_test_node_detects_failures_fast_and_exits_when_downed() {
    assertEquals(Duration.ofMillis(200), config.getDuration("pekko.cluster.failure-detector.heartbeat-interval"));
    assertEquals(Duration.ofSeconds(3), config.getDuration("pekko.cluster.split-brain-resolver.stable-after"));
    assertTrue(config.getBoolean(DOWNING_OVERRIDES + ".exit-jvm"), "a downed node exits its JVM");
    assertEquals(-1, config.getInt(DOWNING_OVERRIDES + ".exit-code"), "Pekko's exit code for downing is kept");
  }
}
