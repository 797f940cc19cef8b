package io.toma.healing;

import io.toma.healing.FaultDetector.Fault;
import io.toma.healing.FaultDetector.DiskLost;
import io.toma.healing.FaultDetector.LinkBack;
import io.toma.healing.FaultDetector.LinkLost;
import io.toma.healing.FaultDetector.NodeBack;
import io.toma.healing.FaultDetector.NodeLost;
import io.toma.healing.FaultDetector.RackLost;
import io.toma.healing.FaultDetector.RaidMemberBack;
import io.toma.healing.FaultDetector.RaidMemberLost;
import io.toma.healing.Refs.MemberRef;
import java.util.Collection;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.function.BiPredicate;
import java.util.function.Predicate;
import java.util.stream.Collectors;

/**
 * Which members and controllers a fault reaches. Faults speak of nodes, disks and links; a volume
 * speaks of members and controllers: this is the one place where the two meet, so the VirtualDisk
 * (which knows its placement) asks here instead of re-deriving the rules.
 */
public final class FaultImpact {
  private FaultImpact() {}

  /** A member of a volume with the node of the volume's active controller. */
  public record PlacedMember(MemberRef member, String activeController) {}

  /** Members lost by this fault: each needs one {@link Rebuild} (start it only if none runs). */
  public static List<MemberRef> lostMembers(Fault fault, Collection<PlacedMember> members) {
    return select(members, lostPredicate(fault));
  }

  /** Members that came back within the grace window: re-add and resync them. */
  public static List<MemberRef> returnedMembers(Fault fault, Collection<PlacedMember> members) {
    Predicate<PlacedMember> p;
    if (fault instanceof NodeBack b) {
      p = m -> m.member().node().equals(b.node());
    } else if (fault instanceof LinkBack b) {
      p = m -> m.member().node().equals(b.peer()) && m.activeController().equals(b.observer());
    } else if (fault instanceof RaidMemberBack b) {
      p = m -> m.member().leg().equals(b.leg()) && m.member().slot() == b.slot()
          && m.activeController().equals(b.controller());
    } else {
      p = m -> false;
    }
    return select(members, p);
  }

  /** Whether the fault takes away this controller node (its volumes must fail over). */
  public static boolean controllerLost(Fault fault, String controllerNode) {
    return lostNodes(fault).contains(controllerNode);
  }

  /** Nodes lost as a whole by this fault. */
  public static Set<String> lostNodes(Fault fault) {
    if (fault instanceof NodeLost n) {
      return Set.of(n.node());
    }
    if (fault instanceof RackLost r) {
      return r.nodes();
    }
    return Set.of();
  }

  /** What a volume does about a lost link from its active controller. */
  public sealed interface LinkResponse permits RebuildMembers, FailOver, NoRoute {}

  /** The active still reads every leg: rebuild the unreachable members elsewhere. */
  public record RebuildMembers(List<MemberRef> members) implements LinkResponse {}

  /** The active lost a whole leg and this standby reaches every leg: fail over to it. */
  public record FailOver(String standby) implements LinkResponse {}

  /** The active lost a whole leg and no standby does better. */
  public record NoRoute(String reason) implements LinkResponse {}

  /**
   * Rebuild or fail over after {@code fault} (a {@link LinkLost} from this volume's active).
   * Rebuilding is preferred while the active can still read every leg: it restores redundancy
   * without an I/O pause or a fence. When the active can no longer read some leg at all, the
   * volume is down on that path: fail over to the first standby that reaches a member of every
   * leg.
   *
   * @param members every member of the volume
   * @param cannotReach (node, peer) → the node cannot reach the peer now, e.g.
   *     {@link FaultDetector.State#cannotReach}
   */
  public static LinkResponse respondToLinkLoss(
      LinkLost fault,
      String activeController,
      List<String> standbys,
      Collection<MemberRef> members,
      BiPredicate<String, String> cannotReach) {
    List<MemberRef> unreachable = members.stream()
        .filter(m -> m.node().equals(fault.peer())
            || cannotReach.test(activeController, m.node()))
        .toList();
    if (readsEveryLeg(members, m -> !unreachable.contains(m))) {
      return new RebuildMembers(members.stream()
          .filter(m -> m.node().equals(fault.peer()) && fault.observer().equals(activeController))
          .toList());
    }
    Optional<String> standby = standbys.stream()
        .filter(s -> readsEveryLeg(members, m -> !cannotReach.test(s, m.node())))
        .findFirst();
    if (standby.isPresent()) {
      return new FailOver(standby.get());
    }
    return new NoRoute("controller " + activeController + " cannot reach any member of a leg"
        + " and no standby reaches every leg");
  }

  private static boolean readsEveryLeg(Collection<MemberRef> members, Predicate<MemberRef> ok) {
    Map<Refs.LegRef, Boolean> legs = members.stream().collect(
        Collectors.groupingBy(MemberRef::leg, Collectors.reducing(false, ok::test, Boolean::logicalOr)));
    return legs.values().stream().allMatch(b -> b);
  }

  private static Predicate<PlacedMember> lostPredicate(Fault fault) {
    Set<String> nodes = lostNodes(fault);
    if (!nodes.isEmpty()) {
      return m -> nodes.contains(m.member().node());
    }
    if (fault instanceof DiskLost d) {
      return m -> m.member().node().equals(d.node()) && m.member().extent().disk().equals(d.disk());
    }
    if (fault instanceof LinkLost l) {
      return m -> m.member().node().equals(l.peer()) && m.activeController().equals(l.observer());
    }
    if (fault instanceof RaidMemberLost r) {
      return m -> m.member().leg().equals(r.leg()) && m.member().slot() == r.slot()
          && m.activeController().equals(r.controller());
    }
    return m -> false;
  }

  private static List<MemberRef> select(
      Collection<PlacedMember> members, Predicate<PlacedMember> p) {
    return members.stream().filter(p).map(PlacedMember::member).distinct().toList();
  }
}
