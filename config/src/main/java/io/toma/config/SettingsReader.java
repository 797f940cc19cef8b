package io.toma.config;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigException;
import com.typesafe.config.ConfigObject;
import com.typesafe.config.ConfigValueType;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * Reads typed values from a {@link Config} and records a problem, instead of throwing, for every
 * key that is missing or of the wrong type, so one pass reports everything that is wrong.
 */
final class SettingsReader {
  private final Config config;
  private final List<SettingsProblem> problems = new ArrayList<>();

  SettingsReader(Config config) {
    this.config = config;
  }

  List<SettingsProblem> problems() {
    return List.copyOf(problems);
  }

  void problem(String key, String message) {
    problems.add(new SettingsProblem(key, key + " " + message));
  }

  Optional<String> string(String key) {
    return read(key, "a string", () -> config.getString(key));
  }

  /** A string that must not be blank. */
  Optional<String> nonBlank(String key) {
    Optional<String> value = string(key);
    if (value.isPresent() && value.get().isBlank()) {
      problem(key, "must not be empty");
      return Optional.empty();
    }
    return value;
  }

  Optional<Boolean> bool(String key) {
    return read(key, "true or false", () -> config.getBoolean(key));
  }

  Optional<Integer> integer(String key) {
    return read(key, "a whole number", () -> config.getInt(key));
  }

  Optional<Double> decimal(String key) {
    return read(key, "a number", () -> config.getDouble(key));
  }

  Optional<Duration> duration(String key) {
    return read(key, "a duration such as 5s or 200ms", () -> config.getDuration(key));
  }

  Optional<List<String>> strings(String key) {
    return read(key, "a list of strings", () -> List.copyOf(config.getStringList(key)));
  }

  Optional<List<? extends ConfigObject>> objects(String key) {
    return read(key, "a list of objects", () -> config.getObjectList(key));
  }

  boolean has(String key) {
    return config.hasPath(key);
  }

  /** A port number 0..65535 (0 asks the operating system for a free one). */
  Optional<Integer> port(String key) {
    Optional<Integer> value = integer(key);
    if (value.isPresent() && (value.get() < 0 || value.get() > 65535)) {
      problem(key, "(" + value.get() + ") must be a port number between 0 and 65535");
      return Optional.empty();
    }
    return value;
  }

  Optional<HostPort> hostPort(String key) {
    return nonBlank(key).flatMap(text -> parseHostPort(key, text));
  }

  Optional<HostPort> parseHostPort(String key, String text) {
    Optional<HostPort> parsed = HostPort.parse(text);
    if (parsed.isEmpty()) {
      problem(key, "(" + text + ") must be host:port");
    }
    return parsed;
  }

  private interface Getter<T> {
    T get();
  }

  private <T> Optional<T> read(String key, String expected, Getter<T> getter) {
    try {
      if (!config.hasPathOrNull(key)) {
        problem(key, "is required but missing");
        return Optional.empty();
      }
      if (config.getIsNull(key)) {
        problem(key, "is required but set to null");
        return Optional.empty();
      }
      return Optional.of(getter.get());
    } catch (ConfigException.WrongType | ConfigException.BadValue e) {
      problem(key, "(" + render(key) + ") must be " + expected);
      return Optional.empty();
    }
  }

  private String render(String key) {
    var value = config.getValue(key);
    return value.valueType() == ConfigValueType.STRING
        ? String.valueOf(value.unwrapped())
        : value.render();
  }

  /** Renders a duration the way an operator writes it in HOCON: 10s, 250ms. */
  static String format(Duration d) {
    long millis = d.toMillis();
    return millis % 1000 == 0 ? (millis / 1000) + "s" : millis + "ms";
  }
}
