package io.toma.config;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigFactory;
import java.util.HashMap;
import java.util.Map;

/**
 * The Pekko settings that make an ActorSystem the cluster member described by {@link TomaSettings}:
 * its canonical address, its seed nodes and its roles (Toma roles plus zone and rack labels).
 */
public final class ClusterConfig {
  private ClusterConfig() {}

  /** {@code pekko://<system>@host:port}, the address Pekko knows a member by. */
  public static String pekkoAddress(String systemName, HostPort hostPort) {
    return "pekko://" + systemName + "@" + hostPort.host() + ":" + hostPort.port();
  }

  /** Per-node Pekko keys only; layer them over {@link TomaConfig#load()} (or a test's config). */
  public static Config overrides(TomaSettings settings) {
    TomaSettings.Membership m = settings.cluster();
    Map<String, Object> values = new HashMap<>();
    values.put("pekko.remote.artery.canonical.hostname", m.canonical().host());
    values.put("pekko.remote.artery.canonical.port", m.canonical().port());
    values.put(
        "pekko.cluster.seed-nodes",
        m.seedNodes().stream().map(seed -> pekkoAddress(m.systemName(), seed)).toList());
    values.put("pekko.cluster.roles", settings.node().clusterRoles());
    return ConfigFactory.parseMap(values, "Toma node " + settings.node().id());
  }

  /** The full configuration for this node: its overrides over {@code base}. */
  public static Config forNode(TomaSettings settings, Config base) {
    return overrides(settings).withFallback(base);
  }
}
