package io.toma.agent.watch;

import io.toma.agent.AgentProtocol.Report;
import java.util.List;

/** A watcher's next state and what it has to report after one observation. */
public record WatchStep<W>(W next, List<Report> reports) {
  public WatchStep {
    reports = List.copyOf(reports);
  }
}
