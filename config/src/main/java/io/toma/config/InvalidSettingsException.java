package io.toma.config;

import java.util.List;
import java.util.stream.Collectors;

/** The configuration cannot start a node; carries every problem found, not only the first. */
public final class InvalidSettingsException extends RuntimeException {
  private final List<SettingsProblem> problems;

  public InvalidSettingsException(List<SettingsProblem> problems) {
    super(
        "invalid Toma configuration:\n"
            + problems.stream().map(SettingsProblem::message).collect(Collectors.joining("\n")));
    this.problems = List.copyOf(problems);
  }

  public List<SettingsProblem> problems() {
    return problems;
  }
}
