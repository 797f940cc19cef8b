package io.toma.healing;

import io.toma.persistence.CborSerializable;
import java.time.Duration;
import java.util.List;
import java.util.Optional;

/**
 * Self-fencing of a controller node cut off from the majority of the cluster: after
 * {@link HealingSettings#selfFenceTimeout()} without a majority in sight it turns its exports
 * {@code inaccessible} on its own, without waiting for anyone (nobody on its side can tell it).
 *
 * <p>Why the timeout must be shorter than the host I/O timeout: the majority side fences the old
 * controller at the disk nodes and promotes the standby; a host keeps an I/O queued on the old path
 * until its I/O timeout and only then retries on the new path. If the old controller were still
 * serving when that retry lands, the host could see its old path come back optimized and two
 * controllers would hold writes for one volume. Stopping first, well inside the host's I/O timeout,
 * leaves the host exactly one path to retry on.
 *
 * <p>Once fenced, a node stays fenced: only the manager, on the majority side, may give it an
 * active role again (by sending a desired state with a newer epoch), because by then the standby
 * may already be optimized. The node agent calls {@link #observe} on every reachability change and
 * on a timer, and {@link #reinstated} when the manager hands it a new desired state.
 */
public final class SelfFence {
  private SelfFence() {}

  /**
   * @param majorityLostSince when this node stopped seeing a majority (epoch millis), if it has
   * @param fenced whether it already turned its exports inaccessible
   */
  public record State(Optional<Long> majorityLostSince, boolean fenced) implements CborSerializable {
    public static State serving() {
      return new State(Optional.empty(), false);
    }
  }

  /** What the node should do now. */
  public sealed interface Decision permits KeepServing, FenceNow, StayFenced {}

  /** Serve as usual (a majority is in sight, or it has been lost for less than the timeout). */
  public record KeepServing() implements Decision {}

  /** Turn every export this node serves as active to ANA {@code inaccessible}, now. */
  public record FenceNow(String reason) implements Decision {}

  /** Already fenced; nothing to do until the manager reinstates the node. */
  public record StayFenced() implements Decision {}

  public record Step(State state, Decision decision) {}

  /**
   * @param reachableMembers cluster members this node can see, itself included
   * @param totalMembers members of the cluster this node knows of, itself included
   */
  public static Step observe(
      State state, int reachableMembers, int totalMembers, long nowMillis, HealingSettings settings) {
    if (state.fenced()) {
      return new Step(state, new StayFenced());
    }
    boolean majority = 2 * reachableMembers > totalMembers;
    if (majority) {
      return new Step(State.serving(), new KeepServing());
    }
    long since = state.majorityLostSince().orElse(nowMillis);
    long cutOffFor = nowMillis - since;
    if (cutOffFor >= settings.selfFenceTimeout().toMillis()) {
      String reason =
          "sees " + reachableMembers + " of " + totalMembers + " members for " + cutOffFor
              + " ms (self-fence timeout " + settings.selfFenceTimeout().toMillis() + " ms)";
      return new Step(new State(Optional.of(since), true), new FenceNow(reason));
    }
    return new Step(new State(Optional.of(since), false), new KeepServing());
  }

  /** The manager handed this node a newer desired state: it may serve again as told. */
  public static State reinstated() {
    return State.serving();
  }

  /** Problems with the pair of timeouts; empty when self-fencing is safe. */
  public static List<String> checkTimeouts(Duration selfFenceTimeout, Duration hostIoTimeout) {
    if (selfFenceTimeout.compareTo(hostIoTimeout) < 0 && !selfFenceTimeout.isNegative()) {
      return List.of();
    }
    return List.of(
        "healing.self-fence-timeout (" + selfFenceTimeout + ") must be shorter than the host I/O"
            + " timeout (" + hostIoTimeout + "): a host retries on the new path only after its I/O"
            + " timeout, and by then the cut-off controller must have stopped serving");
  }
}
