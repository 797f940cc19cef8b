package io.toma.placement;

import io.toma.topology.NodeFacts;
import java.util.List;

/** The nodes chosen to host a volume's controllers, or why none could be. */
public sealed interface ControllerOutcome {

  record Chosen(NodeFacts active, List<NodeFacts> standbys) implements ControllerOutcome {
    public Chosen {
      standbys = List.copyOf(standbys);
    }
  }

  record Refused(String message) implements ControllerOutcome {}
}
