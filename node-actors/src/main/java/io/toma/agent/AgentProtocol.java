package io.toma.agent;

import io.toma.kernel.DesiredState;
import io.toma.persistence.KryoSerializable;
import java.util.List;
import java.util.Set;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.receptionist.ServiceKey;

/**
 * What a node agent accepts and what it reports. This, with {@link DesiredState}, is the whole
 * contract between node-actors and the topology manager: the manager sends desired kernel objects
 * per volume, the agent reports applied revisions and faults. The agent never learns placement.
 */
public final class AgentProtocol {
  private AgentProtocol() {}

  /** Every node agent registers under its own key, so the manager finds it by node id. */
  public static ServiceKey<Command> agentKey(String nodeId) {
    return ServiceKey.create(Command.class, "toma-agent-" + nodeId);
  }

  /** Every node agent also registers here, so the manager can list all agents. */
  public static final ServiceKey<Command> ALL_AGENTS = ServiceKey.create(Command.class, "toma-agents");

  /** The topology manager registers its report sink here; agents send every Report to it. */
  public static final ServiceKey<Report> REPORTS = ServiceKey.create(Report.class, "toma-node-reports");

  // ---- commands to an agent ----

  public sealed interface Command extends KryoSerializable
      permits Apply, Remove, RenderPlan, GetNodeStatus {}

  /**
   * Hold this desired state for the volume (replacing any older one) and reconcile. An older or
   * equal revision than the one held is answered with the revision held (no kernel change).
   */
  public record Apply(String volumeId, long revision, DesiredState desired, ActorRef<Report> replyTo)
      implements Command {}

  /** Stop holding anything for the volume; its objects are removed and the volume forgotten. */
  public record Remove(String volumeId, long revision, ActorRef<Report> replyTo) implements Command {}

  /** Dry run: the shell script that would bring this node's kernel to what the agent holds. */
  public record RenderPlan(ActorRef<PlanRendered> replyTo) implements Command {}

  public record PlanRendered(String nodeId, String script) implements KryoSerializable {}

  /** Current facts of the node: disks and their state, per-volume applied revisions. */
  public record GetNodeStatus(ActorRef<NodeStatus> replyTo) implements Command {}

  public record NodeStatus(
      String nodeId, List<DiskInfo> disks, List<VolumeRevision> volumes)
      implements KryoSerializable {}

  public record VolumeRevision(String volumeId, long revision, boolean applied, String error)
      implements KryoSerializable {}

  // ---- reports from an agent ----

  public sealed interface Report extends KryoSerializable
      permits NodeRegistered, Applied, ApplyFailed, Removed, DiskLost, PathLost, PathRestored,
          RaidMemberStatus {}

  public record DiskInfo(String diskId, long sizeBytes, String devicePath, boolean healthy)
      implements KryoSerializable {}

  /**
   * Sent when the agent starts and whenever the manager asks again: who the node is, its failure
   * domain, the NVMe-oF address its targets listen on and the host NQN it connects with.
   * {@code fenced}: it fenced itself (or booted in a cluster) and serves again only on newer
   * revisions, which the manager then gives it.
   */
  public record NodeRegistered(
      String nodeId,
      Set<String> roles,
      String zone,
      String rack,
      String fabricAddress,
      String hostNqn,
      List<DiskInfo> disks,
      ActorRef<Command> agent,
      boolean fenced)
      implements Report {

    /** A registration of a node that is not fenced. */
    public NodeRegistered(String nodeId, Set<String> roles, String zone, String rack, String fabricAddress,
        String hostNqn, List<DiskInfo> disks, ActorRef<Command> agent) {
      this(nodeId, roles, zone, rack, fabricAddress, hostNqn, disks, agent, false);
    }
  }

  public record Applied(String nodeId, String volumeId, long revision) implements Report {}

  public record ApplyFailed(String nodeId, String volumeId, long revision, String error)
      implements Report {}

  public record Removed(String nodeId, String volumeId, long revision) implements Report {}

  /** A physical disk is gone or failing I/O. */
  public record DiskLost(String nodeId, String diskId, String reason) implements Report {}

  /** This node cannot reach a subsystem it is connected to (controller stuck connecting). */
  public record PathLost(String nodeId, String subsystemNqn, String peerAddress, String reason)
      implements Report {}

  public record PathRestored(String nodeId, String subsystemNqn, String peerAddress)
      implements Report {}

  /**
   * Health of one dm-raid raid1 on this node, as dmsetup status shows it: one character per member
   * (A alive in sync, a alive not in sync, D dead), sync ratio and action.
   */
  public record RaidMemberStatus(
      String nodeId,
      String volumeId,
      String dmName,
      String health,
      long syncedSectors,
      long totalSectors,
      String syncAction)
      implements Report {}
}
