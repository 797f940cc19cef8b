package io.toma.config;

import java.util.List;

/** The outcome of reading the configuration: settings to start with, or every problem found. */
public sealed interface SettingsResult {
  record Valid(TomaSettings settings) implements SettingsResult {}

  record Invalid(List<SettingsProblem> problems) implements SettingsResult {
    public Invalid {
      problems = List.copyOf(problems);
    }
  }
}
