package io.toma.server;

import java.util.Map;
import java.util.Optional;
import org.apache.pekko.actor.typed.Behavior;
import org.apache.pekko.actor.typed.javadsl.Behaviors;

/**
 * The root actor of a node. It waits for {@link Start}, sent once the journal tables exist, so no
 * persistent actor recovers against a missing table, then lets {@link NodeRuntime} spawn the rest.
 */
final class NodeGuardian {
  enum Start {
    INSTANCE
  }

  private NodeGuardian() {}

  static Behavior<Start> create(NodePlan plan, Optional<NodeHardware> hardware) {
    return Behaviors.withMdc(
        Start.class,
        Map.of("nodeId", plan.nodeId()),
        Behaviors.receive(Start.class)
            .onMessageEquals(
                Start.INSTANCE,
                () ->
                    Behaviors.setup(
                        context -> {
                          NodeRuntime.spawnActors(context, plan, hardware);
                          return Behaviors.ignore();
                        }))
            .build());
  }
}
