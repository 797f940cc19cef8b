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
import java.util.Set;
import java.util.function.Predicate;

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
