package io.toma.healing;

import com.fasterxml.jackson.annotation.JsonSubTypes;
import com.fasterxml.jackson.annotation.JsonTypeInfo;
import io.toma.healing.Refs.LegRef;
import io.toma.persistence.CborSerializable;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Optional;
import java.util.SortedMap;
import java.util.Set;
import java.util.TreeMap;

/**
 * Turns raw, doubtful signals (gossip reachability per observer, SBR downing, disk and path
 * watchers, raid1 member failures) into faults worth healing. A pure state machine:
 * {@link #apply(State, Signal, long, HealingSettings)} for each signal and
 * {@link #tick(State, long, HealingSettings)} on a timer; time is an argument.
 *
 * <p>Rules:
 * <ul>
 *   <li>One observer's unreachability is a link problem, not a lost node: a node is suspected only
 *       when a majority of the other live members see it unreachable, and lost when it is downed
 *       (or removed), or suspected for longer than the grace window.</li>
 *   <li>A link (gossip or NVMe-oF path), a raid1 member or a suspected node that comes back before
 *       it was declared lost yields a {@link Back} fact: re-add and resync, never a rebuild.</li>
 *   <li>After the grace window, exactly one fault per lost thing; repeated signals add nothing.</li>
 *   <li>Links from or to a node that is itself suspected or lost are that node's problem: no link
 *       fault for them.</li>
 *   <li>Nodes of one rack whose losses begin within the rack correlation window are declared
 *       together as one {@link RackLost} when the last of them is due.</li>
 *   <li>A disk the disk watcher reports lost is decisive (the agent has already seen the device go
 *       or fail I/O): {@link DiskLost} at once, once.</li>
 * </ul>
 *
 * <p>Faults are facts about the cluster, not about a volume: {@link FaultImpact} maps them onto
 * members and controllers, and the VirtualDisk starts at most one repair per member, so a member
 * reported by two faults (say its node's loss and its raid1 slot failing) is repaired once.
 */
public final class FaultDetector {
  private FaultDetector() {}

  private static final String GOSSIP = "gossip";
  private static final String PATH = "path:";

  // ---- signals in ----

  public sealed interface Signal
      permits MemberUp, Unreachable, Reachable, Downed, Removed, DiskFailed, PathLost, PathRestored,
          RaidMemberFailed, RaidMemberRecovered {}

  /** A member joined (or rejoined with a new incarnation); its rack label, if it has one. */
  public record MemberUp(String node, Optional<String> rack) implements Signal {}

  /** Gossip: {@code observer}'s failure detector marked {@code subject} unreachable. */
  public record Unreachable(String observer, String subject) implements Signal {}

  /** Gossip: {@code observer} sees {@code subject} again. */
  public record Reachable(String observer, String subject) implements Signal {}

  /** The Split Brain Resolver (or an operator) downed the node. */
  public record Downed(String node) implements Signal {}

  /**
   * The node left the membership: a loss after downing or while suspected, a graceful leave
   * otherwise (not a fault).
   */
  public record Removed(String node) implements Signal {}

  /** The disk watcher on {@code node} reports the disk gone or failing I/O. */
  public record DiskFailed(String node, String disk, String reason) implements Signal {}

  /** The path watcher on {@code observer} lost its connection to a subsystem on {@code peer}. */
  public record PathLost(String observer, String subsystemNqn, String peer) implements Signal {}

  public record PathRestored(String observer, String subsystemNqn, String peer) implements Signal {}

  /** raid1 on controller {@code node} marked a member dead (D in dmsetup status). */
  public record RaidMemberFailed(String node, String volume, int leg, int slot) implements Signal {}

  /** The member is alive again (A or a in dmsetup status). */
  public record RaidMemberRecovered(String node, String volume, int leg, int slot)
      implements Signal {}

  // ---- faults out ----

  @JsonTypeInfo(use = JsonTypeInfo.Id.NAME, property = "type")
  @JsonSubTypes({
    @JsonSubTypes.Type(NodeLost.class),
    @JsonSubTypes.Type(DiskLost.class),
    @JsonSubTypes.Type(LinkLost.class),
    @JsonSubTypes.Type(RackLost.class),
    @JsonSubTypes.Type(RaidMemberLost.class),
    @JsonSubTypes.Type(NodeBack.class),
    @JsonSubTypes.Type(LinkBack.class),
    @JsonSubTypes.Type(RaidMemberBack.class),
    @JsonSubTypes.Type(NodeUnreachable.class)
  })
  public sealed interface Fault extends CborSerializable permits Lost, Back, NodeUnreachable {}

  /**
   * A majority has seen {@code node} unreachable for the controller failover confirm window; it is
   * not downed (yet). Not a loss: volumes whose active controller it is, with no member there,
   * fail over (fence first); nothing is rebuilt. Reported once per suspicion.
   */
  public record NodeUnreachable(String node, String reason) implements Fault {}

  /** Something is gone for good: heal by failover or rebuild. */
  public sealed interface Lost extends Fault permits NodeLost, DiskLost, LinkLost, RackLost,
      RaidMemberLost {}

  /** Something came back within the grace window: re-add and resync what it holds, no rebuild. */
  public sealed interface Back extends Fault permits NodeBack, LinkBack, RaidMemberBack {}

  public record NodeLost(String node, String reason) implements Lost {}

  public record DiskLost(String node, String disk, String reason) implements Lost {}

  /** {@code observer} cannot reach {@code peer} while both are alive. */
  public record LinkLost(String observer, String peer, String reason) implements Lost {}

  /** Several nodes of one rack lost together: one event, heal as the loss of each node. */
  public record RackLost(String rack, Set<String> nodes) implements Lost {
    public RackLost {
      nodes = Canonical.set(nodes);
    }
  }

  /** A raid1 member stayed dead for the grace window with nothing else explaining it. */
  public record RaidMemberLost(String controller, LegRef leg, int slot) implements Lost {}

  public record NodeBack(String node) implements Back {}

  public record LinkBack(String observer, String peer) implements Back {}

  public record RaidMemberBack(String controller, LegRef leg, int slot) implements Back {}

  // ---- state ----

  /**
   * What the detector knows of one node.
   *
   * @param unreachableFrom observers whose failure detector marks this node unreachable
   * @param suspectSince when a majority of live observers first agreed it is unreachable
   * @param downedAt when it was downed or removed (decisive)
   * @param declared its loss has been reported
   * @param unreachableReported its current suspicion was reported early ({@link NodeUnreachable})
   * @param flappedAt when it last came back after an early report: for the grace window after
   *     that, it is not reported early again (a flapping node waits for downing)
   */
  public record NodeWatch(
      String node,
      Optional<String> rack,
      Set<String> unreachableFrom,
      Optional<Long> suspectSince,
      Optional<Long> downedAt,
      boolean removed,
      boolean declared,
      boolean unreachableReported,
      Optional<Long> flappedAt)
      implements CborSerializable {
    public NodeWatch {
      unreachableFrom = Canonical.set(unreachableFrom);
    }

    static NodeWatch fresh(String node, Optional<String> rack) {
      return new NodeWatch(node, rack, Canonical.setOf(), Optional.empty(), Optional.empty(), false,
          false, false, Optional.empty());
    }

    NodeWatch withUnreachableReported(boolean reported) {
      return new NodeWatch(node, rack, unreachableFrom, suspectSince, downedAt, removed, declared, reported,
          flappedAt);
    }

    /** Live: may observe others and counts in their majority. */
    boolean live() {
      return downedAt.isEmpty() && !removed && !declared;
    }

    boolean troubled() {
      return suspectSince.isPresent() || downedAt.isPresent() || removed || declared;
    }

    /** Suspected by a majority, neither downed nor declared yet. */
    boolean suspectedOnly() {
      return suspectSince.isPresent() && downedAt.isEmpty() && !declared;
    }

    Optional<Long> lossStart() {
      return suspectSince.or(() -> downedAt);
    }

    long dueAt(HealingSettings settings) {
      return downedAt.orElseGet(() -> suspectSince.orElseThrow() + settings.graceWindow().toMillis());
    }

    NodeWatch withUnreachableFrom(Set<String> observers) {
      return new NodeWatch(node, rack, observers, suspectSince, downedAt, removed, declared,
          unreachableReported, flappedAt);
    }

    /** A new suspicion, or its end (which, after an early report, is a flap). */
    NodeWatch withSuspectSince(Optional<Long> since, long now) {
      Optional<Long> flapped = since.isEmpty() && unreachableReported ? Optional.of(now) : flappedAt;
      return new NodeWatch(node, rack, unreachableFrom, since, downedAt, removed, declared,
          since.isPresent() && unreachableReported, flapped);
    }

    NodeWatch downed(long now, boolean isRemoved) {
      return new NodeWatch(node, rack, unreachableFrom, suspectSince,
          Optional.of(downedAt.orElse(now)), removed || isRemoved, declared, unreachableReported, flappedAt);
    }

    NodeWatch asDeclared() {
      return new NodeWatch(node, rack, unreachableFrom, suspectSince, downedAt, removed, true,
          unreachableReported, flappedAt);
    }
  }

  /**
   * Evidence that {@code observer} cannot reach {@code peer}: {@code gossip} and/or
   * {@code path:<subsystem nqn>} entries.
   *
   * @param partOfNodeTrouble the observer or the peer was suspected or lost while this link was
   *     down: the node's own fault or return tells the story, the link adds nothing
   */
  public record LinkWatch(
      String observer,
      String peer,
      Set<String> evidence,
      long since,
      boolean declared,
      boolean partOfNodeTrouble)
      implements CborSerializable {
    public LinkWatch {
      evidence = Canonical.set(evidence);
    }

    boolean is(String o, String p) {
      return observer.equals(o) && peer.equals(p);
    }
  }

  public record RaidWatch(String controller, LegRef leg, int slot, long since, boolean declared)
      implements CborSerializable {
    boolean is(String c, LegRef l, int s) {
      return controller.equals(c) && leg.equals(l) && slot == s;
    }
  }

  public record State(
      SortedMap<String, NodeWatch> nodes,
      List<LinkWatch> links,
      List<RaidWatch> raidMembers,
      List<Refs.DiskRef> lostDisks)
      implements CborSerializable {
    public State {
      nodes = Canonical.map(nodes);
      links = List.copyOf(links);
      raidMembers = List.copyOf(raidMembers);
      lostDisks = List.copyOf(lostDisks);
    }

    public static State empty() {
      return new State(new TreeMap<>(), List.of(), List.of(), List.of());
    }

    public Optional<NodeWatch> node(String node) {
      return Optional.ofNullable(nodes.get(node));
    }

    /**
     * Whether {@code observer} is known to be unable to reach {@code peer} right now: a link with
     * evidence against it, or the peer suspected or lost. For {@link FaultImpact#respondToLinkLoss}.
     */
    public boolean cannotReach(String observer, String peer) {
      return links.stream().anyMatch(l -> l.is(observer, peer))
          || node(peer).map(NodeWatch::troubled).orElse(false);
    }
  }

  public record Step(State state, List<Fault> faults) {
    public Step {
      faults = List.copyOf(faults);
    }
  }

  // ---- the machine ----

  public static Step apply(State state, Signal signal, long now, HealingSettings settings) {
    Work w = new Work(state);
    if (signal instanceof MemberUp up) {
      w.nodes.put(up.node(), NodeWatch.fresh(up.node(), up.rack()));
    } else if (signal instanceof Unreachable u) {
      NodeWatch n = w.nodeOrNew(u.subject());
      w.nodes.put(u.subject(),
          n.withUnreachableFrom(Canonical.plus(n.unreachableFrom(), u.observer())));
      w.addLinkEvidence(u.observer(), u.subject(), GOSSIP, now);
    } else if (signal instanceof Reachable r) {
      w.node(r.subject()).ifPresent(n -> w.nodes.put(r.subject(),
          n.withUnreachableFrom(Canonical.minus(n.unreachableFrom(), r.observer()))));
      w.removeLinkEvidence(r.observer(), r.subject(), GOSSIP);
    } else if (signal instanceof Downed d) {
      w.nodes.put(d.node(), w.nodeOrNew(d.node()).downed(now, false));
    } else if (signal instanceof Removed r) {
      NodeWatch n = w.nodeOrNew(r.node());
      if (n.declared() || !n.troubled()) {
        // Declared already, or a graceful leave (never suspected, never downed): its kernel goes
        // on serving what it holds, so its leaving is no loss; data-plane signals (paths, raid
        // members) still report anything that really stops.
        w.forget(r.node());
      } else {
        w.nodes.put(r.node(), n.downed(now, true));
      }
    } else if (signal instanceof DiskFailed d) {
      Refs.DiskRef disk = new Refs.DiskRef(d.node(), d.disk());
      if (!w.lostDisks.contains(disk) && !w.troubled(d.node())) {
        w.lostDisks.add(disk);
        w.faults.add(new DiskLost(d.node(), d.disk(), d.reason()));
      }
    } else if (signal instanceof PathLost p) {
      w.addLinkEvidence(p.observer(), p.peer(), PATH + p.subsystemNqn(), now);
    } else if (signal instanceof PathRestored p) {
      w.removeLinkEvidence(p.observer(), p.peer(), PATH + p.subsystemNqn());
    } else if (signal instanceof RaidMemberFailed f) {
      LegRef leg = new LegRef(f.volume(), f.leg());
      if (w.raid.stream().noneMatch(r -> r.is(f.node(), leg, f.slot()))) {
        w.raid.add(new RaidWatch(f.node(), leg, f.slot(), now, false));
      }
    } else if (signal instanceof RaidMemberRecovered f) {
      LegRef leg = new LegRef(f.volume(), f.leg());
      for (RaidWatch r : List.copyOf(w.raid)) {
        if (r.is(f.node(), leg, f.slot())) {
          w.raid.remove(r);
          if (!r.declared()) {
            w.faults.add(new RaidMemberBack(f.node(), leg, f.slot()));
          }
        }
      }
    }
    w.recomputeSuspicion(now);
    return w.step();
  }

  /** Declare what has been lost for long enough. Call on a timer (say every 250 ms). */
  public static Step tick(State state, long now, HealingSettings settings) {
    Work w = new Work(state);
    w.reportUnreachable(now, settings);
    w.declareNodes(now, settings);
    long grace = settings.graceWindow().toMillis();
    for (int i = 0; i < w.links.size(); i++) {
      LinkWatch l = w.links.get(i);
      if (!l.declared() && now >= l.since() + grace && !w.troubled(l.observer())
          && !w.troubled(l.peer())) {
        w.links.set(i, new LinkWatch(l.observer(), l.peer(), l.evidence(), l.since(), true,
            false));
        w.faults.add(new LinkLost(l.observer(), l.peer(),
            "unreachable for " + (now - l.since()) + " ms (" + String.join(", ", l.evidence()) + ")"));
      }
    }
    for (int i = 0; i < w.raid.size(); i++) {
      RaidWatch r = w.raid.get(i);
      if (!r.declared() && now >= r.since() + grace && !w.troubled(r.controller())) {
        w.raid.set(i, new RaidWatch(r.controller(), r.leg(), r.slot(), r.since(), true));
        w.faults.add(new RaidMemberLost(r.controller(), r.leg(), r.slot()));
      }
    }
    return w.step();
  }

  /** Mutable scratch copy of a state, private to one call. */
  private static final class Work {
    final TreeMap<String, NodeWatch> nodes;
    final List<LinkWatch> links;
    final List<RaidWatch> raid;
    final List<Refs.DiskRef> lostDisks;
    final List<Fault> faults = new ArrayList<>();

    Work(State s) {
      nodes = new TreeMap<>(s.nodes());
      links = new ArrayList<>(s.links());
      raid = new ArrayList<>(s.raidMembers());
      lostDisks = new ArrayList<>(s.lostDisks());
    }

    Step step() {
      return new Step(new State(nodes, links, raid, lostDisks), faults);
    }

    Optional<NodeWatch> node(String node) {
      return Optional.ofNullable(nodes.get(node));
    }

    NodeWatch nodeOrNew(String node) {
      return node(node).orElseGet(() -> NodeWatch.fresh(node, Optional.empty()));
    }

    boolean troubled(String node) {
      return node(node).map(NodeWatch::troubled).orElse(false);
    }

    void forget(String node) {
      nodes.remove(node);
      links.removeIf(l -> l.observer().equals(node) || l.peer().equals(node));
      raid.removeIf(r -> r.controller().equals(node));
    }

    void addLinkEvidence(String observer, String peer, String evidence, long now) {
      for (int i = 0; i < links.size(); i++) {
        LinkWatch l = links.get(i);
        if (l.is(observer, peer)) {
          links.set(i, new LinkWatch(observer, peer, Canonical.plus(l.evidence(), evidence),
              l.since(), l.declared(), l.partOfNodeTrouble()));
          return;
        }
      }
      links.add(new LinkWatch(observer, peer, Canonical.setOf(evidence), now, false,
          troubled(observer) || troubled(peer)));
    }

    void removeLinkEvidence(String observer, String peer, String evidence) {
      for (int i = 0; i < links.size(); i++) {
        LinkWatch l = links.get(i);
        if (!l.is(observer, peer)) {
          continue;
        }
        Set<String> left = Canonical.minus(l.evidence(), evidence);
        if (!left.isEmpty()) {
          links.set(i, new LinkWatch(observer, peer, left, l.since(), l.declared(),
              l.partOfNodeTrouble()));
          return;
        }
        links.remove(i);
        // A declared link is being rebuilt around already; its return changes nothing. An
        // undeclared one whose node is in trouble is that node's story (NodeBack or NodeLost).
        if (!l.declared() && !l.partOfNodeTrouble() && !troubled(observer) && !troubled(peer)) {
          faults.add(new LinkBack(observer, peer));
        }
        return;
      }
    }

    /** Majority agreement, recomputed for every node: the set of live observers changes too. */
    void recomputeSuspicion(long now) {
      List<String> live = nodes.values().stream().filter(NodeWatch::live).map(NodeWatch::node).toList();
      for (NodeWatch n : List.copyOf(nodes.values())) {
        if (n.declared() || n.downedAt().isPresent()) {
          continue;
        }
        List<String> observers = live.stream().filter(o -> !o.equals(n.node())).toList();
        long against = observers.stream().filter(n.unreachableFrom()::contains).count();
        boolean majority = !observers.isEmpty() && 2 * against > observers.size();
        if (majority && n.suspectSince().isEmpty()) {
          nodes.put(n.node(), n.withSuspectSince(Optional.of(now), now));
        } else if (!majority && n.suspectSince().isPresent()) {
          nodes.put(n.node(), n.withSuspectSince(Optional.empty(), now));
          faults.add(new NodeBack(n.node()));
        }
      }
      for (int i = 0; i < links.size(); i++) {
        LinkWatch l = links.get(i);
        if (!l.partOfNodeTrouble() && (troubled(l.observer()) || troubled(l.peer()))) {
          links.set(i, new LinkWatch(l.observer(), l.peer(), l.evidence(), l.since(), l.declared(),
              true));
        }
      }
    }

    /**
     * A node a majority has seen unreachable for the confirm window, not downed nor declared:
     * report it once (controller-only volumes fail over early on it). Two guards keep a doubtful
     * picture from moving volumes; both fall back on downing (or the grace window), which needs a
     * stable majority:
     * <ul>
     *   <li>half the members or more suspected at once looks like the observer cut off, not like
     *       that many nodes dying together: no early report while it lasts;</li>
     *   <li>a node that came back after an early report is not reported early again for the grace
     *       window: a flapping link costs at most one early failover per node per window.</li>
     * </ul>
     */
    void reportUnreachable(long now, HealingSettings settings) {
      long members = nodes.values().stream().filter(NodeWatch::live).count(); // suspected ones included
      long suspected = nodes.values().stream().filter(NodeWatch::suspectedOnly).count();
      if (2 * suspected >= members) {
        return;
      }
      long holdDown = settings.graceWindow().toMillis();
      for (NodeWatch n : List.copyOf(nodes.values())) {
        if (n.suspectedOnly() && !n.unreachableReported()
            && now >= n.suspectSince().get() + settings.controllerFailoverConfirm().toMillis()
            && n.flappedAt().map(at -> now >= at + holdDown).orElse(true)) {
          nodes.put(n.node(), n.withUnreachableReported(true));
          faults.add(new NodeUnreachable(n.node(), "unreachable by a majority for "
              + (now - n.suspectSince().get()) + " ms"));
        }
      }
    }

    /**
     * Declare lost nodes, grouped by rack: in each rack, the earliest undeclared loss anchors a
     * group with every other loss that began within the correlation window after it; the group is
     * declared when its last member is due (downed nodes are due at once, suspected ones after the
     * grace window), as one RackLost when it holds two nodes or more.
     */
    void declareNodes(long now, HealingSettings settings) {
      List<NodeWatch> candidates = nodes.values().stream()
          .filter(n -> !n.declared() && n.lossStart().isPresent())
          .sorted(Comparator.comparing((NodeWatch n) -> n.lossStart().orElseThrow())
              .thenComparing(NodeWatch::node))
          .toList();
      List<String> grouped = new ArrayList<>();
      for (NodeWatch anchor : candidates) {
        if (grouped.contains(anchor.node())) {
          continue;
        }
        long windowEnd = anchor.lossStart().orElseThrow() + settings.rackCorrelationWindow().toMillis();
        List<NodeWatch> group = anchor.rack().isEmpty()
            ? List.of(anchor)
            : candidates.stream()
                .filter(n -> !grouped.contains(n.node()) && n.rack().equals(anchor.rack())
                    && n.lossStart().orElseThrow() <= windowEnd)
                .toList();
        group.forEach(n -> grouped.add(n.node()));
        long due = group.stream().mapToLong(n -> n.dueAt(settings)).max().orElseThrow();
        if (now < due) {
          continue;
        }
        for (NodeWatch n : group) {
          nodes.put(n.node(), n.asDeclared());
        }
        if (group.size() >= 2) {
          faults.add(new RackLost(anchor.rack().orElseThrow(),
              Canonical.set(group.stream().map(NodeWatch::node).toList())));
        } else {
          faults.add(new NodeLost(anchor.node(), reason(anchor, now)));
        }
        for (NodeWatch n : group) {
          if (n.removed()) {
            forget(n.node());
          }
        }
      }
    }

    private static String reason(NodeWatch n, long now) {
      if (n.removed()) {
        return "removed from the cluster";
      }
      if (n.downedAt().isPresent()) {
        return "downed";
      }
      return "unreachable by a majority for " + (now - n.suspectSince().orElseThrow()) + " ms";
    }
  }
}
