package io.toma.config;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigFactory;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Test;

class TomaSettingsTest {

  private static Config withReference(String hocon) {
    return ConfigFactory.parseString(hocon).withFallback(ConfigFactory.defaultReference()).resolve();
  }

  private static List<String> problems(String hocon) {
    return problems(withReference(hocon));
  }

  private static List<String> problems(Config config) {
    SettingsResult result = TomaSettings.validate(config);
    return assertInstanceOf(SettingsResult.Invalid.class, result).problems().stream()
        .map(SettingsProblem::message)
        .toList();
  }

  @Test
  void theShippedDefaultsStartAConvergedNodeWithAnH2Journal() {
    TomaSettings s = TomaSettings.load(withReference(""));
    assertEquals("node-1", s.node().id());
    assertEquals(Set.of(Role.MANAGER, Role.DISK, Role.CONTROLLER), s.node().roles());
    assertEquals(new HostPort("127.0.0.1", 4420), s.node().fabricAddress());
    assertEquals(8080, s.http().port());
    assertEquals(TomaSettings.JournalKind.H2, s.journal().kind());
    assertEquals(Path.of("./toma-data"), s.dataDir());
    assertEquals(Duration.ofSeconds(5), s.timeouts().keepAlive());
    assertEquals(0.10, s.placement().reserveFraction());
    assertEquals(List.of(new HostPort("127.0.0.1", 2551)), s.cluster().seedNodes());
  }

  @Test
  void zoneAndRackTravelAsClusterRolesBesideTheTomaRoles() {
    TomaSettings s =
        TomaSettings.load(
            withReference("toma.node { roles = [disk, controller], zone = z2, rack = r3 }"));
    assertEquals(List.of("disk", "controller", "zone:z2", "rack:r3"), s.node().clusterRoles());
    assertEquals("z2", ClusterRoles.zone(s.node().clusterRoles()).orElseThrow());
    assertEquals("r3", ClusterRoles.rack(s.node().clusterRoles()).orElseThrow());
  }

  @Test
  void aHostIoTimeoutShorterThanTwiceTheKeepAliveIsRefusedNamingBothKeys() {
    assertEquals(
        List.of(
            "toma.timeouts.host-io-timeout (10s) must be at least 2 x toma.timeouts.keep-alive (6s)"),
        problems("toma.timeouts { keep-alive = 6s, host-io-timeout = 10s }"));
  }

  @Test
  void anUnknownRoleIsNamed() {
    assertEquals(
        List.of(
            "toma.node.roles has unknown role 'storage' (known: manager, disk, controller, host)"),
        problems("toma.node.roles = [manager, storage]"));
  }

  @Test
  void negativeSizesAndDurationsAreEachNamed() {
    List<String> found =
        problems(
            """
            toma.placement.reserve-fraction = -0.2
            toma.rebuild.max-concurrent-per-disk = -1
            toma.jdbc.max-connections = 0
            toma.timeouts.self-fence = -1s
            toma.timeouts.leg-fast-io-fail = -500ms
            """);
    assertEquals(
        List.of(
            "toma.timeouts.leg-fast-io-fail (-500ms) must not be negative",
            "toma.timeouts.self-fence (-1s) must be greater than zero",
            "toma.placement.reserve-fraction (-0.2) must be at least 0 and below 1",
            "toma.rebuild.max-concurrent-per-disk (-1) must be at least 1",
            "toma.jdbc.max-connections (0) must be at least 1"),
        found);
  }

  @Test
  void aMissingRequiredKeyIsNamed() {
    Config config = withReference("").withoutPath("toma.node.id").withoutPath("toma.http.port");
    assertEquals(
        List.of("toma.node.id is required but missing", "toma.http.port is required but missing"),
        problems(config));
  }

  @Test
  void thePostgresJournalRequiresAJdbcUrl() {
    assertEquals(
        List.of("toma.jdbc.url is required but missing"), problems("toma.journal = postgres"));
    TomaSettings s =
        TomaSettings.load(
            withReference(
                "toma.journal = postgres, toma.jdbc.url = \"jdbc:postgresql://db:5432/toma\""));
    assertEquals(TomaSettings.JournalKind.POSTGRES, s.journal().kind());
    assertEquals("jdbc:postgresql://db:5432/toma", s.journal().jdbcUrl().orElseThrow());
  }

  @Test
  void anUnknownJournalIsNamed() {
    assertEquals(
        List.of("toma.journal (cassandra) must be h2 or postgres"),
        problems("toma.journal = cassandra"));
  }

  @Test
  void valuesOfTheWrongTypeAreNamedWithWhatWasExpected() {
    assertEquals(
        List.of(
            "toma.http.port (eighty) must be a whole number",
            "toma.timeouts.keep-alive (soon) must be a duration such as 5s or 200ms"),
        problems("toma.http.port = eighty, toma.timeouts.keep-alive = soon"));
  }

  @Test
  void badAddressesAreNamed() {
    assertEquals(
        List.of(
            "toma.node.fabric-address (nowhere) must be host:port",
            "toma.cluster.canonical-port (70000) must be a port number between 0 and 65535",
            "toma.cluster.seed-nodes (10.0.0.1) must be host:port"),
        problems(
            """
            toma.node.fabric-address = nowhere
            toma.cluster.canonical-port = 70000
            toma.cluster.seed-nodes = ["10.0.0.1:2551", "10.0.0.1"]
            """));
  }

  @Test
  void everyProblemIsReportedNotOnlyTheFirst() {
    InvalidSettingsException e =
        assertThrows(
            InvalidSettingsException.class,
            () ->
                TomaSettings.load(
                    withReference(
                        """
                        toma.node.roles = [wizard]
                        toma.timeouts.keep-alive = -1s
                        toma.rebuild.max-concurrent-per-node = -3
                        toma.journal = sqlite
                        """)));
    assertEquals(
        List.of(
            "toma.node.roles",
            "toma.timeouts.keep-alive",
            "toma.rebuild.max-concurrent-per-node",
            "toma.journal"),
        e.problems().stream().map(SettingsProblem::key).toList());
    assertTrue(e.getMessage().contains("toma.journal (sqlite) must be h2 or postgres"));
  }

  @Test
  void authenticationNeedsAtLeastOneTokenAndTokensAreRead() {
    assertEquals(
        List.of("toma.api.tokens must hold at least one token when toma.api.auth-enabled = true"),
        problems("toma.api.auth-enabled = true"));
    TomaSettings s =
        TomaSettings.load(
            withReference(
                """
                toma.api.auth-enabled = true
                toma.api.tokens = [{ token = "s3cret" }, { token = "viewer", read-only = true }]
                """));
    assertEquals(
        List.of(new TomaSettings.ApiToken("s3cret", false), new TomaSettings.ApiToken("viewer", true)),
        s.api().tokens());
    assertEquals(
        List.of("toma.api.tokens[0].token is required and must not be empty"),
        problems("toma.api.tokens = [{ read-only = true }]"));
  }

  @Test
  void theClusterOverridesCarryAddressSeedsAndRoles() {
    TomaSettings s =
        TomaSettings.load(
            withReference(
                """
                toma.node { roles = [manager], zone = z1, rack = r2 }
                toma.cluster { canonical-port = 2600, seed-nodes = ["127.0.0.1:2600", "127.0.0.1:2601"] }
                """));
    Config pekko = ClusterConfig.overrides(s);
    assertEquals(2600, pekko.getInt("pekko.remote.artery.canonical.port"));
    assertEquals(
        List.of("pekko://toma@127.0.0.1:2600", "pekko://toma@127.0.0.1:2601"),
        pekko.getStringList("pekko.cluster.seed-nodes"));
    assertEquals(List.of("manager", "zone:z1", "rack:r2"), pekko.getStringList("pekko.cluster.roles"));
  }

  @Test
  void theClusterDefaultsUseTheSplitBrainResolverAndFastFailureDetection() {
    Config config = TomaConfig.load();
    assertEquals("cluster", config.getString("pekko.actor.provider"));
    assertEquals(
        "org.apache.pekko.cluster.sbr.SplitBrainResolverProvider",
        config.getString("pekko.cluster.downing-provider-class"));
    assertEquals("keep-majority", config.getString("pekko.cluster.split-brain-resolver.active-strategy"));
    assertEquals(
        Duration.ofMillis(200), config.getDuration("pekko.cluster.failure-detector.heartbeat-interval"));
  }

  @Test
  void theHealingWindowsAreReadWithTheDefaultsOfDocsFailures() {
    TomaSettings.Healing h = TomaSettings.load(withReference(
        "toma.healing { grace-window = 20s, controller-failover-confirm = 2s }")).healing();
    assertEquals(new TomaSettings.Healing(Duration.ofSeconds(20), Duration.ofSeconds(3), Duration.ofSeconds(5),
        Duration.ofSeconds(2)), h);
  }

  @Test
  void aRackWindowNotShorterThanTheGraceWindowIsRefusedNamingBothKeys() {
    assertEquals(
        List.of("toma.healing.rack-correlation-window (10s) must be shorter than toma.healing.grace-window (10s)"),
        problems("toma.healing.rack-correlation-window = 10s"));
  }

  @Test
  void anEarlyFailoverConfirmLongerThanTheGraceWindowIsRefused() {
    assertEquals(
        List.of("toma.healing.controller-failover-confirm (15s) must not be longer than"
            + " toma.healing.grace-window (10s)"),
        problems("toma.healing.controller-failover-confirm = 15s"));
  }

  @Test
  void aZeroFenceConfirmTimeoutIsRefused() {
    assertEquals(List.of("toma.healing.fence-confirm-timeout (0s) must be greater than zero"),
        problems("toma.healing.fence-confirm-timeout = 0s"));
  }

  @Test
  void aSelfFenceNotShorterThanTheHostIoTimeoutIsRefused() {
    assertEquals(
        List.of("toma.timeouts.self-fence (30s) must be shorter than toma.timeouts.host-io-timeout (30s)"),
        problems("toma.timeouts.self-fence = 30s"));
  }
}
