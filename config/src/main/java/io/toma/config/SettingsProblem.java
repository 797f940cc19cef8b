package io.toma.config;

/**
 * One thing wrong with the configuration, naming the key at fault.
 *
 * @param key the full HOCON path, e.g. {@code toma.timeouts.host-io-timeout}
 * @param message one line for an operator, starting with the key
 */
public record SettingsProblem(String key, String message) {
  @Override
  public String toString() {
    return message;
  }
}
