package io.toma.healing;

import io.toma.capacity.CapacityView;
import io.toma.disk.Extent;
import io.toma.disk.PhysicalDisk;
import io.toma.node.ControllerNode;
import io.toma.persistence.CborSerializable;
import io.toma.topology.DiskFacts;
import io.toma.topology.TomaEvent;
import io.toma.topology.TomaEvents;
import io.toma.volume.VirtualDisk;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.TreeSet;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.actor.typed.Behavior;
import org.apache.pekko.actor.typed.javadsl.ActorContext;
import org.apache.pekko.actor.typed.javadsl.Behaviors;
import org.apache.pekko.cluster.ClusterEvent;
import org.apache.pekko.cluster.MemberStatus;
import org.apache.pekko.cluster.sharding.typed.javadsl.ClusterSharding;
import org.apache.pekko.cluster.typed.Cluster;
import org.apache.pekko.cluster.typed.ClusterSingleton;
import org.apache.pekko.cluster.typed.ClusterSingletonSettings;
import org.apache.pekko.cluster.typed.SingletonActor;
import org.apache.pekko.cluster.typed.Subscribe;
import org.slf4j.MDC;

/**
 * The shell around {@link FaultDetector}: it feeds it membership and data-plane signals and time,
 * and routes each fault it declares to exactly the volumes it touches: a lost node's hosted
 * controllers (its {@link ControllerNode} knows them) and the volumes with extents on its disks
 * (each {@link PhysicalDisk} knows them; the disks are also marked lost, so placement avoids them).
 *
 * <p>One per cluster, as a cluster singleton on the manager role: two detectors would each declare
 * the same loss and start the same failover twice (the volume would refuse the second, but the
 * event stream would show two). The singleton's state is soft: after a hand-over it rebuilds its
 * view from fresh signals, and volumes that already healed ignore a repeated loss.
 *
 * <p>The membership input is injectable ({@link Signal}): in a one-process test there is no member
 * to lose, so tests send {@code Unreachable}/{@code Downed} themselves. In production it subscribes
 * to the cluster's reachability and member events; Pekko's typed API gives the reachability seen
 * by this node, so each event is fed as seen by every live member (the global view, conservative:
 * the detector then needs SBR's downing, or the grace window, before it declares a node lost).
 * Agents' PathLost/PathRestored reports (per-observer, from the data plane) arrive here too.
 */
public final class FaultRouter {
  private FaultRouter() {}

  public interface Command {}

  /** A raw signal (membership, path watcher, raid member). Tests inject these. */
  public record Signal(FaultDetector.Signal signal) implements Command, CborSerializable {}

  private record Tick() implements Command {}

  private record MemberEvent(ClusterEvent.MemberEvent event) implements Command {}

  private record ReachabilityEvent(ClusterEvent.ReachabilityEvent event) implements Command {}

  private record Route(FaultDetector.Fault fault, CapacityView.Snapshot snapshot) implements Command {}

  /** A path signal whose peer (a fabric address) was mapped to a node id. */
  private record PathResolved(FaultDetector.Signal signal) implements Command {}

  private record Reconcile() implements Command {}

  private record ReconcileWith(CapacityView.Snapshot snapshot) implements Command {}

  /** How often the detector's time-based rules run (confirm window, grace window). */
  static final Duration TICK_EVERY = Duration.ofMillis(100);

  /** How often the router compares the nodes the topology knows with the live members. */
  static final Duration RECONCILE_EVERY = Duration.ofSeconds(2);

  /**
   * Where the router learns which nodes are live members, for {@link LossReconciler}: a
   * production router reads the cluster's current state; a one-process test has no member to
   * lose and passes {@link #none()}.
   */
  @FunctionalInterface
  public interface LiveMembers {
    Set<String> now();

    static Optional<LiveMembers> none() {
      return Optional.empty();
    }

    /** Members not downed nor removed, by node id; unreachable ones count as live (the detector's grace decides). */
    static LiveMembers of(ActorSystem<?> system) {
      return () -> {
        Set<String> live = new TreeSet<>();
        for (org.apache.pekko.cluster.Member m : Cluster.get(system).state().getMembers()) {
          if (m.status() != MemberStatus.down() && m.status() != MemberStatus.removed()) {
            live.add(Membership.nodeId(m));
          }
        }
        return live;
      };
    }
  }

  /** Start (or find) the cluster's router; {@code followMembership} subscribes to cluster events. */
  public static ActorRef<Command> init(ActorSystem<?> system, ActorRef<CapacityView.Command> capacity,
      HealingSettings settings, boolean followMembership) {
    return init(system, capacity, settings, followMembership, LiveMembers.none());
  }

  /**
   * As {@link #init(ActorSystem, ActorRef, HealingSettings, boolean)}; with {@code liveMembers}
   * the router also reconciles, at start and every {@link #RECONCILE_EVERY}, the nodes the topology
   * knows with the live members, and routes a known node that is gone as lost.
   */
  public static ActorRef<Command> init(ActorSystem<?> system, ActorRef<CapacityView.Command> capacity,
      HealingSettings settings, boolean followMembership, Optional<LiveMembers> liveMembers) {
    return ClusterSingleton.get(system).init(SingletonActor.of(
        create(capacity, settings, followMembership, liveMembers), "toma-fault-router")
        .withSettings(ClusterSingletonSettings.create(system).withRole("manager")));
  }

  public static Behavior<Command> create(ActorRef<CapacityView.Command> capacity, HealingSettings settings,
      boolean followMembership) {
    return create(capacity, settings, followMembership, LiveMembers.none());
  }

  public static Behavior<Command> create(ActorRef<CapacityView.Command> capacity, HealingSettings settings,
      boolean followMembership, Optional<LiveMembers> liveMembers) {
    return Behaviors.setup(ctx -> Behaviors.withTimers(timers -> {
      // The confirm window (250 ms by default) is honoured to within one tick; a tick is one pure
      // pass over a handful of nodes.
      timers.startTimerWithFixedDelay(new Tick(), TICK_EVERY);
      if (liveMembers.isPresent()) {
        ctx.getSelf().tell(new Reconcile());
        timers.startTimerWithFixedDelay(new Reconcile(), RECONCILE_EVERY);
      }
      if (followMembership) {
        Cluster cluster = Cluster.get(ctx.getSystem());
        cluster.subscriptions().tell(Subscribe.create(
            ctx.messageAdapter(ClusterEvent.MemberEvent.class, MemberEvent::new), ClusterEvent.MemberEvent.class));
        cluster.subscriptions().tell(Subscribe.create(
            ctx.messageAdapter(ClusterEvent.ReachabilityEvent.class, ReachabilityEvent::new),
            ClusterEvent.ReachabilityEvent.class));
      }
      return new Router(ctx, capacity, settings, liveMembers).behavior(FaultDetector.State.empty());
    }));
  }

  private static final class Router {
    final ActorContext<Command> ctx;
    final ActorRef<CapacityView.Command> capacity;
    final HealingSettings settings;
    final ClusterSharding sharding;
    final Optional<LiveMembers> liveMembers;
    /** Soft, like the detector's: a new router starts empty and finds every standing loss again. */
    LossReconciler.State reconciled = LossReconciler.State.empty();

    Router(ActorContext<Command> ctx, ActorRef<CapacityView.Command> capacity, HealingSettings settings,
        Optional<LiveMembers> liveMembers) {
      this.ctx = ctx;
      this.capacity = capacity;
      this.settings = settings;
      this.sharding = ClusterSharding.get(ctx.getSystem());
      this.liveMembers = liveMembers;
    }

    Behavior<Command> behavior(FaultDetector.State state) {
      return Behaviors.receive(Command.class)
          .onMessage(Signal.class, s -> {
            if (s.signal() instanceof FaultDetector.PathLost || s.signal() instanceof FaultDetector.PathRestored) {
              resolvePeer(s.signal());
              return Behaviors.same();
            }
            return next(state, FaultDetector.apply(state, s.signal(), now(), settings));
          })
          .onMessage(PathResolved.class, s -> next(state, FaultDetector.apply(state, s.signal(), now(), settings)))
          .onMessage(Tick.class, t -> next(state, FaultDetector.tick(state, now(), settings)))
          .onMessage(MemberEvent.class, m -> {
            FaultDetector.State s = state;
            for (FaultDetector.Signal signal : Membership.signals(m.event(), state)) {
              FaultDetector.Step step = FaultDetector.apply(s, signal, now(), settings);
              handle(step.faults());
              s = step.state();
            }
            return behavior(s);
          })
          .onMessage(ReachabilityEvent.class, r -> {
            FaultDetector.State s = state;
            for (FaultDetector.Signal signal : Membership.signals(r.event(), state)) {
              FaultDetector.Step step = FaultDetector.apply(s, signal, now(), settings);
              handle(step.faults());
              s = step.state();
            }
            armConfirmCheck(state, s);
            return behavior(s);
          })
          .onMessage(Reconcile.class, r -> {
            ctx.ask(CapacityView.Snapshot.class, capacity, Duration.ofSeconds(5), CapacityView.GetSnapshot::new,
                (snapshot, failure) -> new ReconcileWith(snapshot != null ? snapshot
                    : new CapacityView.Snapshot(List.of(), List.of())));
            return Behaviors.same();
          })
          .onMessage(ReconcileWith.class, r -> {
            reconcile(r.snapshot());
            return Behaviors.same();
          })
          .onMessage(Route.class, r -> {
            route(r.fault(), r.snapshot());
            return Behaviors.same();
          })
          .build();
    }

    private long now() {
      return System.currentTimeMillis();
    }

    private Behavior<Command> next(FaultDetector.State before, FaultDetector.Step step) {
      handle(step.faults(), step.state());
      armConfirmCheck(before, step.state());
      return behavior(step.state());
    }

    /**
     * A suspicion that just began is checked again exactly when its confirm window ends, not at
     * the next periodic tick: the early failover of a controller-only active waits for the window
     * and nothing more.
     */
    private void armConfirmCheck(FaultDetector.State before, FaultDetector.State after) {
      boolean newSuspicion = after.nodes().values().stream().anyMatch(n -> n.suspectedOnly()
          && !before.node(n.node()).map(FaultDetector.NodeWatch::suspectedOnly).orElse(false));
      if (newSuspicion) {
        ctx.scheduleOnce(settings.controllerFailoverConfirm(), ctx.getSelf(), new Tick());
      }
    }

    /**
     * Agents name a path's peer by fabric address (address:service); the detector speaks node ids.
     * The capacity view knows every node's address; an address it does not know stays as it is.
     */
    private void resolvePeer(FaultDetector.Signal signal) {
      ctx.ask(CapacityView.Snapshot.class, capacity, Duration.ofSeconds(5), CapacityView.GetSnapshot::new,
          (snapshot, failure) -> {
            List<io.toma.topology.NodeFacts> nodes = snapshot != null ? snapshot.nodes() : List.of();
            if (signal instanceof FaultDetector.PathLost p) {
              return new PathResolved(new FaultDetector.PathLost(p.observer(), p.subsystemNqn(), nodeOf(p.peer(), nodes)));
            }
            FaultDetector.PathRestored p = (FaultDetector.PathRestored) signal;
            return new PathResolved(new FaultDetector.PathRestored(p.observer(), p.subsystemNqn(), nodeOf(p.peer(), nodes)));
          });
    }

    static String nodeOf(String peer, List<io.toma.topology.NodeFacts> nodes) {
      int colon = peer.lastIndexOf(':');
      String address = colon > 0 ? peer.substring(0, colon) : peer;
      return nodes.stream().filter(n -> n.fabricAddress().equals(address)).map(io.toma.topology.NodeFacts::nodeId)
          .findFirst().orElse(peer);
    }

    private void handle(List<FaultDetector.Fault> faults) {
      handle(faults, FaultDetector.State.empty());
    }

    /** Known nodes that are no live member: each is routed as lost once (see LossReconciler). */
    private void reconcile(CapacityView.Snapshot snapshot) {
      if (liveMembers.isEmpty()) {
        return;
      }
      Set<String> known = new TreeSet<>();
      snapshot.nodes().forEach(n -> known.add(n.nodeId()));
      snapshot.disks().forEach(d -> known.add(d.nodeId()));
      LossReconciler.Step step = LossReconciler.reconcile(reconciled, known, liveMembers.get().now(), now(),
          RECONCILE_EVERY);
      reconciled = step.state();
      handle(step.lost().stream()
          .map(node -> (FaultDetector.Fault) new FaultDetector.NodeLost(node,
              "not a live member of the cluster (found by reconciling the topology with the membership)"))
          .toList());
    }

    private void handle(List<FaultDetector.Fault> faults, FaultDetector.State state) {
      for (FaultDetector.Fault fault : faults) {
        reconciled = reconciled.withRouted(FaultImpact.lostNodes(fault));
        String subject = subject(fault);
        MDC.put("nodeId", subject);
        ctx.getLog().warn("fault: {}; Toma routes it to the volumes it touches", fault);
        MDC.remove("nodeId");
        TomaEvents.publish(ctx.getSystem(), new TomaEvent(TomaEvent.FAULT_DETECTED, subject, fault.toString(), now()));
        if (fault instanceof FaultDetector.LinkLost l) {
          Set<String> cut = new TreeSet<>();
          state.links().forEach(link -> cut.add(link.observer() + "->" + link.peer()));
          cut.add(l.observer() + "->" + l.peer());
          hostedBy(l.observer(), volume -> new VirtualDisk.ReportLinkLost(l.observer(), l.peer(), l.reason(), cut));
        } else if (fault instanceof FaultDetector.NodeUnreachable u) {
          hostedBy(u.node(), volume -> new VirtualDisk.ReportControllerUnreachable(u.node(), u.reason()));
        }
        if (!FaultImpact.lostNodes(fault).isEmpty()) {
          ctx.ask(CapacityView.Snapshot.class, capacity, Duration.ofSeconds(5), CapacityView.GetSnapshot::new,
              (snapshot, failure) -> new Route(fault, snapshot != null ? snapshot
                  : new CapacityView.Snapshot(List.of(), List.of())));
        }
      }
    }

    private static String subject(FaultDetector.Fault fault) {
      if (fault instanceof FaultDetector.NodeLost n) {
        return n.node();
      }
      if (fault instanceof FaultDetector.RackLost r) {
        return r.rack();
      }
      if (fault instanceof FaultDetector.DiskLost d) {
        return d.node() + "/" + d.disk();
      }
      if (fault instanceof FaultDetector.LinkLost l) {
        return l.observer() + "->" + l.peer();
      }
      if (fault instanceof FaultDetector.LinkBack l) {
        return l.observer() + "->" + l.peer();
      }
      if (fault instanceof FaultDetector.NodeUnreachable u) {
        return u.node();
      }
      return fault.getClass().getSimpleName();
    }

    /**
     * Each lost node: its controllers' volumes hear of it from its ControllerNode, its disks are
     * marked lost (their PhysicalDisks tell the volumes with extents there), and those volumes get
     * the node loss too (a fence waiting for the node gives up at once).
     */
    private void route(FaultDetector.Fault fault, CapacityView.Snapshot snapshot) {
      String reason = fault instanceof FaultDetector.RackLost r ? "rack " + r.rack() + " lost"
          : fault instanceof FaultDetector.NodeLost n ? n.reason() : fault.toString();
      for (String node : new TreeSet<>(FaultImpact.lostNodes(fault))) {
        // no new controller there until its agent registers again
        sharding.entityRefFor(ControllerNode.TYPE_KEY, node).tell(new ControllerNode.MarkLost(reason));
        sharding.entityRefFor(ControllerNode.TYPE_KEY, node).<ControllerNode.NodeReply>ask(
            ControllerNode.Get::new, Duration.ofSeconds(10)).thenAccept(reply -> {
              if (reply instanceof ControllerNode.NodeStatus status) {
                tellVolumes(status.hosted().keySet(), node, reason);
              }
            });
        for (DiskFacts disk : snapshot.disks()) {
          if (!disk.nodeId().equals(node)) {
            continue;
          }
          var ref = sharding.entityRefFor(PhysicalDisk.TYPE_KEY, disk.diskId());
          ref.<PhysicalDisk.DiskStatus>ask(PhysicalDisk.Get::new, Duration.ofSeconds(10)).thenAccept(status -> {
            Set<String> volumes = new TreeSet<>();
            status.extents().stream().map(Extent::volumeId).forEach(volumes::add);
            tellVolumes(volumes, node, reason);
            ref.tell(new PhysicalDisk.MarkLost("node " + node + " lost (" + reason + ")", true));
          });
        }
      }
    }

    /** Tell every volume whose controller the node hosts (its ControllerNode knows them). */
    private void hostedBy(String node, java.util.function.Function<String, VirtualDisk.Command> message) {
      sharding.entityRefFor(ControllerNode.TYPE_KEY, node).<ControllerNode.NodeReply>ask(
          ControllerNode.Get::new, Duration.ofSeconds(10)).thenAccept(reply -> {
            if (reply instanceof ControllerNode.NodeStatus status) {
              for (String volume : new TreeSet<>(status.hosted().keySet())) {
                sharding.entityRefFor(VirtualDisk.TYPE_KEY, volume).tell(message.apply(volume));
              }
            }
          });
    }

    private void tellVolumes(Set<String> volumes, String node, String reason) {
      for (String volume : volumes) {
        sharding.entityRefFor(VirtualDisk.TYPE_KEY, volume).tell(new VirtualDisk.ReportNodeLost(node, reason));
      }
    }
  }

  /** Cluster events as detector signals. */
  static final class Membership {
    private Membership() {}

    static List<FaultDetector.Signal> signals(Object event, FaultDetector.State state) {
      if (event instanceof ClusterEvent.MemberUp up) {
        return List.of(new FaultDetector.MemberUp(nodeId(up.member()), rack(up.member())));
      }
      if (event instanceof ClusterEvent.MemberDowned d) {
        return List.of(new FaultDetector.Downed(nodeId(d.member())));
      }
      if (event instanceof ClusterEvent.MemberRemoved r) {
        return List.of(new FaultDetector.Removed(nodeId(r.member())));
      }
      if (event instanceof ClusterEvent.UnreachableMember u) {
        String subject = nodeId(u.member());
        return observers(state, subject).stream()
            .map(o -> (FaultDetector.Signal) new FaultDetector.Unreachable(o, subject)).toList();
      }
      if (event instanceof ClusterEvent.ReachableMember r) {
        String subject = nodeId(r.member());
        return observers(state, subject).stream()
            .map(o -> (FaultDetector.Signal) new FaultDetector.Reachable(o, subject)).toList();
      }
      return List.of();
    }

    private static List<String> observers(FaultDetector.State state, String subject) {
      return state.nodes().keySet().stream().filter(n -> !n.equals(subject)).toList();
    }

    /** Node ids are the members' {@code node:<id>} (or {@code node-id:<id>}) roles when they carry one, else host:port. */
    static String nodeId(org.apache.pekko.cluster.Member member) {
      for (String role : member.getRoles()) {
        // "node:<id>" is the role a Toma server gives its members; "node-id:<id>" the older form
        for (String prefix : List.of("node:", "node-id:")) {
          if (role.startsWith(prefix)) {
            return role.substring(prefix.length());
          }
        }
      }
      return member.address().hostPort();
    }

    static java.util.Optional<String> rack(org.apache.pekko.cluster.Member member) {
      for (String role : member.getRoles()) {
        if (role.startsWith("rack:")) {
          return java.util.Optional.of(role.substring("rack:".length()));
        }
      }
      return java.util.Optional.empty();
    }
  }
}
