package io.toma.config;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigFactory;

/**
 * Loads the configuration a Toma node runs with, in this order of precedence: system properties,
 * the application's file ({@code application.conf} or {@code -Dconfig.file}), Toma's cluster
 * defaults ({@code toma-cluster.conf}), then every library's {@code reference.conf}.
 */
public final class TomaConfig {
  public static final String CLUSTER_DEFAULTS = "toma-cluster.conf";

  private TomaConfig() {}

  public static Config load() {
    ConfigFactory.invalidateCaches();
    return ConfigFactory.defaultOverrides()
        .withFallback(ConfigFactory.defaultApplication())
        .withFallback(ConfigFactory.parseResources(TomaConfig.class.getClassLoader(), CLUSTER_DEFAULTS))
        .withFallback(ConfigFactory.defaultReference())
        .resolve();
  }
}
