package io.toma.agent;

import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.actor.typed.javadsl.ActorContext;
import org.apache.pekko.cluster.ClusterEvent;
import org.apache.pekko.cluster.Member;
import org.apache.pekko.cluster.MemberStatus;
import org.apache.pekko.cluster.typed.Cluster;
import org.apache.pekko.cluster.typed.Subscribe;

/**
 * Where the agent learns what it sees of the cluster, for self-fencing. Injectable so that tests
 * (and a simulation) can drive membership without a real cluster; the default follows Pekko
 * Cluster events, and in a system without cluster feeds nothing (the agent then never fences).
 */
@FunctionalInterface
public interface MembershipFeed {

  /** Starts sending {@link SelfFence.Membership} views to {@code to}; returns whether it feeds at all. */
  boolean start(ActorContext<Object> ctx, ActorRef<SelfFence.Membership> to);

  /** No membership at all: the agent never fences. */
  static MembershipFeed none() {
    return (ctx, to) -> false;
  }

  /** Pekko Cluster membership and reachability, when the system runs the cluster provider. */
  static MembershipFeed cluster() {
    return (ctx, to) -> {
      ActorSystem<Void> system = ctx.getSystem();
      String provider = system.settings().config().getString("pekko.actor.provider");
      if (!provider.equals("cluster") && !provider.endsWith("ClusterActorRefProvider")) {
        return false;
      }
      Cluster cluster = Cluster.get(system);
      // Every domain event is mapped to a view of the whole current state, read on the actor's
      // thread: the counts are then never assembled from events seen out of order.
      ActorRef<ClusterEvent.ClusterDomainEvent> adapter = ctx.messageAdapter(
          ClusterEvent.ClusterDomainEvent.class, event -> view(cluster));
      cluster.subscriptions().tell(Subscribe.create(adapter, ClusterEvent.ClusterDomainEvent.class));
      return true;
    };
  }

  private static SelfFence.Membership view(Cluster cluster) {
    ClusterEvent.CurrentClusterState state = cluster.state();
    int total = 0;
    for (Member m : state.getMembers()) {
      if (m.status() != MemberStatus.removed()) {
        total++;
      }
    }
    total = Math.max(total, 1);
    int reachable = Math.max(0, total - state.getUnreachable().size());
    MemberStatus self = cluster.selfMember().status();
    boolean downed = self == MemberStatus.down() || self == MemberStatus.removed();
    return new SelfFence.Membership(Math.max(reachable, downed ? 0 : 1), total, downed);
  }
}
