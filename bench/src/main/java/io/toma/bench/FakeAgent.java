package io.toma.bench;

import io.toma.agent.AgentProtocol;
import io.toma.agent.AgentProtocol.DiskInfo;
import java.util.List;
import java.util.Set;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.Behavior;
import org.apache.pekko.actor.typed.javadsl.Behaviors;
import org.apache.pekko.actor.typed.receptionist.Receptionist;

/**
 * A node agent that acknowledges every Apply and Remove at once and touches no kernel: the
 * benchmarks measure the control plane, so the node side answers as fast as it can. It registers
 * its node (and disks) with the manager's report sink as soon as the sink is found.
 */
final class FakeAgent {
  private FakeAgent() {}

  record Node(String nodeId, String zone, String rack, Set<String> roles, List<DiskInfo> disks) {}

  static Behavior<AgentProtocol.Command> create(Node node) {
    return Behaviors.<Object>setup(ctx -> {
      ActorRef<AgentProtocol.Command> self = ctx.getSelf().unsafeUpcast();
      ctx.getSystem().receptionist().tell(Receptionist.register(AgentProtocol.agentKey(node.nodeId()), self));
      ctx.getSystem().receptionist().tell(Receptionist.register(AgentProtocol.ALL_AGENTS, self));
      // Subscribe through an adapter: the receptionist refuses to watch one actor both as a
      // registered service and as a subscriber.
      ActorRef<Receptionist.Listing> listings = ctx.messageAdapter(Receptionist.Listing.class, l -> l);
      ctx.getSystem().receptionist().tell(Receptionist.subscribe(AgentProtocol.REPORTS, listings));
      return Behaviors.receive(Object.class)
          .onMessage(Receptionist.Listing.class, listing -> {
            for (ActorRef<AgentProtocol.Report> sink : listing.getServiceInstances(AgentProtocol.REPORTS)) {
              sink.tell(new AgentProtocol.NodeRegistered(node.nodeId(), node.roles(), node.zone(), node.rack(),
                  "127.0.0.1:" + (4420 + Math.abs(node.nodeId().hashCode() % 1000)),
                  "nqn.2026-11.io.toma:host:" + node.nodeId(), node.disks(), self));
            }
            return Behaviors.same();
          })
          .onMessage(AgentProtocol.Apply.class, apply -> {
            apply.replyTo().tell(new AgentProtocol.Applied(node.nodeId(), apply.volumeId(), apply.revision()));
            return Behaviors.same();
          })
          .onMessage(AgentProtocol.Remove.class, remove -> {
            remove.replyTo().tell(new AgentProtocol.Removed(node.nodeId(), remove.volumeId(), remove.revision()));
            return Behaviors.same();
          })
          .onAnyMessage(other -> Behaviors.same())
          .build();
    }).narrow();
  }
}
