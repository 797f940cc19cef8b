package io.toma.node;

import io.toma.topology.NodeFacts;

/** Where a ControllerNode entity publishes the node's facts (the capacity view). */
@FunctionalInterface
public interface NodeObserver {
  void changed(NodeFacts facts);

  NodeObserver NONE = facts -> {};
}
