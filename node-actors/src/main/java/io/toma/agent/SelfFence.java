package io.toma.agent;

import io.toma.kernel.DesiredState;
import io.toma.kernel.DesiredState.AnaState;
import io.toma.kernel.DesiredState.DmDevice;
import io.toma.kernel.DesiredState.DmTableLine;
import io.toma.kernel.DesiredState.NvmetNamespace;
import io.toma.kernel.DesiredState.NvmetPort;
import io.toma.kernel.DesiredState.NvmetSubsystem;
import io.toma.kernel.Names;
import io.toma.kernel.Validation;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;

/**
 * Self-fencing of a controller node cut off from the majority of the cluster, as pure decisions:
 * after the self-fence timeout without a majority in sight (or at once when the cluster downed or
 * removed this member) the node turns its controller exports ANA {@code inaccessible} on its own,
 * because nobody on its side of a partition can tell it to.
 *
 * <p>The timeout must be shorter than the host I/O timeout: a host retries on the new path only
 * after its I/O timeout, and by then the cut-off controller must have stopped serving, or two
 * controllers would hold writes for one volume.
 *
 * <p>Once fenced, a volume stays fenced on this node until the node sees a majority again
 * <em>and</em> the manager hands it a newer desired state <em>of that volume</em>: only the
 * majority side may give it an active role back, because by then the standby may already be
 * optimized, and a newer state of another volume says nothing of this one (its failover may still
 * be under way). The manager gives a node that registers again a new revision of each volume it
 * hosts for that. A node restarting in a cluster comes up fenced until the manager sends it a
 * state of each volume. The stored desired states are never changed: the fence is an override the
 * agent applies to what it reconciles ({@link #reconciledView}).
 */
public final class SelfFence {
  private SelfFence() {}

  /** What the node sees of the cluster: members it can reach (itself included) of all it knows. */
  public record Membership(int reachableMembers, int totalMembers, boolean selfDowned) {
    public boolean majority() {
      return !selfDowned && 2 * reachableMembers > totalMembers;
    }
  }

  /**
   * @param majorityLostSince when this node stopped seeing a majority (epoch millis), if it has
   * @param fenced whether the node fenced itself and some volume is still fenced
   * @param revisionsAtFence the volumes still fenced, each with the revision held when it fenced:
   *     only a newer one reinstates that volume
   * @param majority whether it sees a majority now
   */
  public record State(Optional<Long> majorityLostSince, boolean fenced, Map<String, Long> revisionsAtFence,
      boolean majority) {
    public State {
      revisionsAtFence = Map.copyOf(revisionsAtFence);
    }

    public static State serving() {
      return new State(Optional.empty(), false, Map.of(), true);
    }

    /**
     * After a restart inside a cluster: every held volume fenced until the manager sends a state
     * of it again (any revision: the node cannot tell what it missed while down).
     */
    public static State restarted(Set<String> heldVolumes) {
      Map<String, Long> any = new TreeMap<>();
      heldVolumes.forEach(v -> any.put(v, -1L));
      return any.isEmpty() ? serving() : new State(Optional.empty(), true, any, true);
    }

    /** Whether {@code volumeId}'s controller exports are overridden to inaccessible. */
    public boolean fences(String volumeId) {
      return fenced && revisionsAtFence.containsKey(volumeId);
    }
  }

  /** What the node should do now. */
  public sealed interface Decision permits KeepServing, FenceNow, StayFenced, Reinstate {}

  /** Serve as usual (a majority is in sight, or it has been lost for less than the timeout). */
  public record KeepServing() implements Decision {}

  /** Turn every controller export of this node to ANA {@code inaccessible}, now. */
  public record FenceNow(String reason) implements Decision {}

  /** Already fenced; nothing to do until the manager reinstates the node. */
  public record StayFenced() implements Decision {}

  /** The fence is lifted for the volume just received: serve its stored desired state as it is. */
  public record Reinstate() implements Decision {}

  public record Step(State state, Decision decision) {}

  /** A membership change or a timer tick. */
  public static Step observe(State state, Membership seen, long nowMillis, Duration timeout,
      Map<String, Long> heldRevisions) {
    if (state.fenced()) {
      if (!seen.majority() && !state.revisionsAtFence().keySet().containsAll(heldRevisions.keySet())) {
        // cut off again while its fence was being lifted volume by volume: every volume fences now
        Map<String, Long> all = new TreeMap<>(heldRevisions);
        all.putAll(state.revisionsAtFence());
        return new Step(new State(Optional.of(nowMillis), true, all, false),
            new FenceNow("lost the majority again while its self-fence was being lifted"));
      }
      return new Step(new State(state.majorityLostSince(), true, state.revisionsAtFence(), seen.majority()),
          new StayFenced());
    }
    if (seen.selfDowned()) {
      return new Step(new State(Optional.of(nowMillis), true, heldRevisions, false),
          new FenceNow("the cluster downed or removed this member"));
    }
    if (seen.majority()) {
      return new Step(State.serving(), new KeepServing());
    }
    long since = state.majorityLostSince().orElse(nowMillis);
    long cutOffFor = nowMillis - since;
    if (cutOffFor >= timeout.toMillis()) {
      return new Step(new State(Optional.of(since), true, heldRevisions, false), new FenceNow(
          "sees " + seen.reachableMembers() + " of " + seen.totalMembers() + " members for " + cutOffFor
              + " ms (self-fence timeout " + timeout.toMillis() + " ms)"));
    }
    return new Step(new State(Optional.of(since), false, Map.of(), false), new KeepServing());
  }

  /** The manager sent a desired state for {@code volumeId} at {@code revision}. */
  public static Step stateReceived(State state, String volumeId, long revision) {
    if (!state.fenced()) {
      return new Step(state, new KeepServing());
    }
    Long atFence = state.revisionsAtFence().get(volumeId);
    if (atFence == null) {
      if (state.majority()) {
        return new Step(state, new KeepServing()); // a volume it did not hold when it fenced
      }
      // a state reaching a node still cut off: fenced with the rest, until a newer one comes
      Map<String, Long> more = new TreeMap<>(state.revisionsAtFence());
      more.put(volumeId, revision);
      return new Step(new State(state.majorityLostSince(), true, more, false), new StayFenced());
    }
    if (state.majority() && revision > atFence) {
      Map<String, Long> left = new TreeMap<>(state.revisionsAtFence());
      left.remove(volumeId);
      State after = left.isEmpty() ? State.serving() : new State(state.majorityLostSince(), true, left, true);
      return new Step(after, new Reinstate());
    }
    return new Step(state, new StayFenced());
  }

  /** The manager removed {@code volumeId} from this node: nothing of it is left to fence. */
  public static State volumeRemoved(State state, String volumeId) {
    if (!state.fences(volumeId)) {
      return state;
    }
    Map<String, Long> left = new TreeMap<>(state.revisionsAtFence());
    left.remove(volumeId);
    return left.isEmpty() && state.majority() ? State.serving()
        : new State(state.majorityLostSince(), true, left, state.majority());
  }

  /** Problems with the pair of timeouts; empty when self-fencing is safe. */
  public static List<String> checkTimeouts(Duration selfFenceTimeout, Duration hostIoTimeout) {
    if (selfFenceTimeout.compareTo(hostIoTimeout) < 0 && !selfFenceTimeout.isNegative()) {
      return List.of();
    }
    return List.of("self-fence timeout (" + selfFenceTimeout + ") must be shorter than the host I/O"
        + " timeout (" + hostIoTimeout + "): a host retries on the new path only after its I/O"
        + " timeout, and by then the cut-off controller must have stopped serving");
  }

  /** The desired states as the node reconciles them: each volume still fenced as {@link #fencedView}. */
  public static Map<String, DesiredState> reconciledView(State state, Map<String, DesiredState> held) {
    if (!state.fenced()) {
      return held;
    }
    Map<String, DesiredState> fenced = new TreeMap<>();
    Map<String, DesiredState> out = new TreeMap<>(held);
    held.forEach((volume, d) -> {
      if (state.fences(volume)) {
        fenced.put(volume, d);
      }
    });
    out.putAll(fencedView(fenced));
    return out;
  }

  /**
   * The desired states as a fenced node reconciles them: every ANA group of a port that serves a
   * controller export (a subsystem whose namespace stands on the fabric) is inaccessible. Leg
   * exports of local slices are left alone: the new active controller may still need them.
   */
  public static Map<String, DesiredState> fencedView(Map<String, DesiredState> held) {
    Map<String, DesiredState> out = new TreeMap<>();
    for (Map.Entry<String, DesiredState> e : new TreeMap<>(held).entrySet()) {
      DesiredState d = e.getValue();
      Set<String> controllerExports = controllerExports(d);
      List<NvmetPort> ports = new ArrayList<>();
      for (NvmetPort p : d.ports()) {
        if (p.subsystems().stream().noneMatch(controllerExports::contains)) {
          ports.add(p);
          continue;
        }
        Map<Integer, AnaState> groups = new TreeMap<>();
        p.anaGroups().forEach((g, s) -> groups.put(g, AnaState.INACCESSIBLE));
        ports.add(new NvmetPort(p.portId(), p.transport(), p.addressFamily(), p.address(), p.serviceId(),
            groups, p.subsystems()));
      }
      out.put(e.getKey(), new DesiredState(d.volumeId(), d.epoch(), d.dmDevices(), d.subsystems(), ports,
          d.connections()));
    }
    return out;
  }

  private static Set<String> controllerExports(DesiredState d) {
    Set<String> overFabric = new TreeSet<>();
    boolean grew = true;
    while (grew) { // a fixpoint: the list's order need not be bottom-up
      grew = false;
      for (DmDevice dev : d.dmDevices()) {
        if (!overFabric.contains(dev.name()) && standsOn(dev, overFabric)) {
          overFabric.add(dev.name());
          grew = true;
        }
      }
    }
    Set<String> out = new TreeSet<>();
    for (NvmetSubsystem s : d.subsystems()) {
      for (NvmetNamespace ns : s.namespaces()) {
        String path = ns.devicePath();
        if (path.startsWith("@ns:")
            || (path.startsWith("@dm:") && overFabric.contains(path.substring("@dm:".length())))) {
          out.add(s.nqn());
        }
      }
    }
    return out;
  }

  private static boolean standsOn(DmDevice dev, Set<String> overFabric) {
    for (DmTableLine line : dev.table()) {
      for (String token : Validation.tokens(line.args())) {
        if (token.startsWith("@ns:")
            || (token.startsWith("@dm:") && overFabric.contains(token.substring("@dm:".length())))
            || (token.startsWith("/dev/mapper/" + Names.PREFIX)
                && overFabric.contains(token.substring("/dev/mapper/".length())))) {
          return true;
        }
      }
    }
    return false;
  }
}
