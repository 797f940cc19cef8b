package io.toma.simulation;

import io.toma.disk.ExtentAllocator;
import io.toma.kernel.DesiredState;
import io.toma.topology.ControllerPlacement;
import io.toma.topology.ReplicaPlacement;
import io.toma.topology.VolumeSpec;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.Consumer;
import java.util.function.Predicate;

/**
 * The manager side of the simulated world, as narrow as the world needs: create volumes, take
 * node reports, act on time, restart from the journal, and show what it believes (for hosts'
 * discovery and for the invariant checkers). Everything it sends goes through {@code out}; it
 * learns which nodes it can reach only through {@code reachable} (the gossip failure detector).
 */
interface ManagerShell {

  record VolumeRequest(String volume, VolumeSpec spec, String hostNqn) {}

  /** What the manager believes of one volume. */
  record VolumeView(
      String volume,
      List<ControllerPlacement> controllers,
      List<ReplicaPlacement> members,
      List<String> attachments,
      Map<String, DesiredState> desired,
      Set<String> leaving,
      boolean online,
      boolean capacityShort,
      String reason) {}

  record DiskView(String disk, String node, boolean dead, ExtentAllocator allocator) {}

  void create(List<VolumeRequest> requests, long nowMillis, Consumer<Message> out);

  void onMessage(Message.ToManager message, long nowMillis, Consumer<Message> out);

  void tick(long nowMillis, Predicate<String> reachable, Consumer<Message> out);

  /** Drops every in-memory state and rebuilds from the journal, then resumes repairs under way. */
  void restart(long nowMillis, Consumer<Message> out);

  Map<String, VolumeView> volumes();

  Map<String, DiskView> disks();

  /** Nodes the manager declared lost (downed from the cluster). */
  Set<String> downedNodes();

  /** Failovers and member rebuilds completed so far. */
  int repairsDone();
}
