package io.toma.volume;

import io.toma.healing.Rebuild;
import io.toma.healing.RebuildCoordinator;
import io.toma.healing.Refs.DiskRef;
import io.toma.healing.RepairScheduler.PendingRepair;
import io.toma.topology.ReplicaPlacement;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import org.apache.pekko.actor.typed.ActorRef;

/**
 * The volume's side of the cluster-wide rebuild caps ({@link RebuildCoordinator}): the request for
 * a replacement extent (the moment a rebuild starts to load disks) is held until the coordinator
 * admits the rebuild; what the volume holds is renewed on every tick and released as soon as the
 * rebuild is in sync (or gone). Transient, like the rest of the shell's memory: after a restart the
 * decider re-sends its requests and the renewals count the copying rebuilds again.
 */
final class RebuildGate {
  private final String volumeId;
  private final ActorRef<RebuildCoordinator.Command> coordinator;
  /** Replacement requests waiting for admission, by lost tag. */
  private final Map<String, Outbound.RequestReplacementExtent> held = new TreeMap<>();
  /** Targets of admitted requests whose grant is under way (the record names them once granted). */
  private final Map<String, DiskRef> targets = new TreeMap<>();
  /** Tags told to the coordinator and not yet released. */
  private Set<String> told = new TreeSet<>();

  RebuildGate(String volumeId, ActorRef<RebuildCoordinator.Command> coordinator) {
    this.volumeId = volumeId;
    this.coordinator = coordinator;
  }

  /** Hold the request and ask for admission. */
  void ask(VolumeRecord state, Outbound.RequestReplacementExtent request) {
    held.put(request.lostTag(), request);
    told.add(request.lostTag());
    coordinator.tell(new RebuildCoordinator.Acquire(volumeId, request.lostTag(),
        repair(state, request.lostTag(), Optional.of(new DiskRef(request.disk().nodeId(), request.disk().diskId())))));
  }

  /** The coordinator admitted {@code lostTag}: the request to send now, if it is still wanted. */
  Optional<Outbound.RequestReplacementExtent> admitted(VolumeRecord state, String lostTag) {
    Outbound.RequestReplacementExtent request = held.remove(lostTag);
    boolean wanted = request != null && Optional.ofNullable(state.healing().rebuilds().get(lostTag))
        .map(r -> r.stage() == Rebuild.Stage.REPLACEMENT_REQUESTED).orElse(false);
    if (!wanted) {
      return Optional.empty();
    }
    targets.put(lostTag, new DiskRef(request.disk().nodeId(), request.disk().diskId()));
    return Optional.of(request);
  }

  /** After every decision: release what is no longer copying nor asking. */
  void settle(VolumeRecord state) {
    held.keySet().removeIf(tag -> !isRequested(state, tag));
    targets.keySet().removeIf(tag -> !state.healing().rebuilds().containsKey(tag));
    Set<String> now = new TreeSet<>(copying(state).keySet());
    now.addAll(held.keySet());
    for (String tag : told) {
      if (!now.contains(tag)) {
        coordinator.tell(new RebuildCoordinator.Release(volumeId, tag));
      }
    }
    told = now;
  }

  /** On every tick: renew what is held, so that only a live volume keeps its permits. */
  boolean renew(VolumeRecord state) {
    Map<String, PendingRepair> copying = copying(state);
    Map<String, PendingRepair> asking = new TreeMap<>();
    held.forEach((tag, r) -> asking.put(tag,
        repair(state, tag, Optional.of(new DiskRef(r.disk().nodeId(), r.disk().diskId())))));
    if (copying.isEmpty() && asking.isEmpty() && told.isEmpty()) {
      return false;
    }
    coordinator.tell(new RebuildCoordinator.Renew(volumeId, copying, asking));
    told = new TreeSet<>(copying.keySet());
    told.addAll(asking.keySet());
    return !told.isEmpty();
  }

  private static boolean isRequested(VolumeRecord state, String tag) {
    return Optional.ofNullable(state.healing().rebuilds().get(tag))
        .map(r -> r.stage() == Rebuild.Stage.REPLACEMENT_REQUESTED).orElse(false);
  }

  /**
   * Rebuilds past admission that still load disks: the replacement requested (and not held here:
   * its grant is under way), granted, attached or syncing.
   */
  private Map<String, PendingRepair> copying(VolumeRecord state) {
    Map<String, PendingRepair> out = new TreeMap<>();
    state.healing().rebuilds().forEach((tag, r) -> {
      if (r.inFlight() && !held.containsKey(tag)) {
        out.put(tag, repair(state, tag, r.replacement().map(x -> x.diskRef())
            .or(() -> Optional.ofNullable(targets.get(tag)))));
      }
    });
    return out;
  }

  /** What the rebuild of {@code lostTag} loads: the leg's in-sync members and its target. */
  static PendingRepair repair(VolumeRecord state, String lostTag, Optional<DiskRef> target) {
    Rebuild.State r = state.healing().rebuilds().get(lostTag);
    int leg = r.lost().leg().leg();
    List<DiskRef> touches = new ArrayList<>();
    state.placement().ifPresent(p -> {
      for (ReplicaPlacement m : p.replicas()) {
        if (m.leg() == leg && !state.lostDisks().containsKey(m.diskId())
            && !state.healing().rebuildingTags().contains(m.tag())) {
          touches.add(new DiskRef(m.nodeId(), m.diskId()));
        }
      }
    });
    int inSync = touches.size();
    target.ifPresent(touches::add);
    int wanted = state.spec().map(s -> s.layout().replicas()).orElse(inSync + 1);
    return new PendingRepair(r.lost().leg(), r.lost().slot(), wanted, inSync, touches);
  }
}
