package io.toma.node;

import io.toma.agent.AgentProtocol;
import io.toma.healing.FaultDetector;
import io.toma.healing.FaultRouter;
import org.apache.pekko.actor.typed.ActorRef;
import io.toma.agent.AgentProtocol.DiskInfo;
import io.toma.disk.PhysicalDisk;
import io.toma.volume.VirtualDisk;
import org.apache.pekko.actor.typed.Behavior;
import org.apache.pekko.actor.typed.javadsl.Behaviors;
import org.apache.pekko.actor.typed.receptionist.Receptionist;
import org.apache.pekko.cluster.sharding.typed.javadsl.ClusterSharding;

/**
 * The report sink of one manager node: registers under {@link AgentProtocol#REPORTS} and routes
 * what node agents say to the entities that own it: registrations to ControllerNode (node facts)
 * and PhysicalDisk (disks, which feed the capacity view), applied/removed revisions to the
 * VirtualDisk, lost disks to the PhysicalDisk (which tells the volumes using it).
 */
public final class NodeReports {
  private NodeReports() {}

  public static Behavior<AgentProtocol.Report> create(ActorRef<FaultRouter.Command> faults) {
    return Behaviors.setup(ctx -> {
      ctx.getSystem().receptionist().tell(Receptionist.register(AgentProtocol.REPORTS, ctx.getSelf()));
      ClusterSharding sharding = ClusterSharding.get(ctx.getSystem());
      return Behaviors.receive(AgentProtocol.Report.class)
          .onMessage(AgentProtocol.NodeRegistered.class, r -> {
            sharding.entityRefFor(ControllerNode.TYPE_KEY, r.nodeId()).tell(
                new ControllerNode.Register(r.roles(), r.zone(), r.rack(), r.fabricAddress(), r.hostNqn()));
            for (DiskInfo disk : r.disks()) {
              sharding.entityRefFor(PhysicalDisk.TYPE_KEY, disk.diskId()).tell(
                  new PhysicalDisk.Register(r.nodeId(), r.zone(), r.rack(), disk.sizeBytes(), disk.healthy()));
            }
            // A node that fenced itself (booted in a cluster, or back from a lost majority): the
            // volumes it hosts give it a newer revision, which alone lifts its fence.
            if (!r.fenced()) {
              return Behaviors.same();
            }
            sharding.entityRefFor(ControllerNode.TYPE_KEY, r.nodeId()).<ControllerNode.NodeReply>ask(
                ControllerNode.Get::new, java.time.Duration.ofSeconds(10)).thenAccept(reply -> {
                  if (reply instanceof ControllerNode.NodeStatus status) {
                    status.hosted().keySet().forEach(volume -> sharding.entityRefFor(VirtualDisk.TYPE_KEY, volume)
                        .tell(new VirtualDisk.ReportNodeSeenAgain(r.nodeId())));
                  }
                });
            return Behaviors.same();
          })
          .onMessage(AgentProtocol.Applied.class, r -> {
            sharding.entityRefFor(VirtualDisk.TYPE_KEY, r.volumeId())
                .tell(new VirtualDisk.ReportApplied(r.nodeId(), r.revision()));
            return Behaviors.same();
          })
          .onMessage(AgentProtocol.ApplyFailed.class, r -> {
            sharding.entityRefFor(VirtualDisk.TYPE_KEY, r.volumeId())
                .tell(new VirtualDisk.ReportApplyFailed(r.nodeId(), r.revision(), r.error()));
            return Behaviors.same();
          })
          .onMessage(AgentProtocol.Removed.class, r -> {
            sharding.entityRefFor(VirtualDisk.TYPE_KEY, r.volumeId())
                .tell(new VirtualDisk.ReportRemoved(r.nodeId(), r.revision()));
            return Behaviors.same();
          })
          .onMessage(AgentProtocol.DiskLost.class, r -> {
            ctx.getLog().warn("node {}: disk {} lost ({}); the volumes using it are told", r.nodeId(), r.diskId(), r.reason());
            sharding.entityRefFor(PhysicalDisk.TYPE_KEY, r.diskId()).tell(new PhysicalDisk.MarkLost(r.reason()));
            return Behaviors.same();
          })
          .onMessage(AgentProtocol.RaidMemberStatus.class, r -> {
            sharding.entityRefFor(VirtualDisk.TYPE_KEY, r.volumeId()).tell(new VirtualDisk.ReportRaidStatus(
                r.nodeId(), r.dmName(), r.health(), r.syncedSectors(), r.totalSectors()));
            return Behaviors.same();
          })
          .onMessage(AgentProtocol.PathLost.class, r -> {
            // a path names the peer by its fabric address; the detector speaks node ids: the
            // address is kept as the peer until the router maps it (link losses are reported,
            // not yet healed: see docs/failures.md)
            faults.tell(new FaultRouter.Signal(new FaultDetector.PathLost(r.nodeId(), r.subsystemNqn(), r.peerAddress())));
            return Behaviors.same();
          })
          .onMessage(AgentProtocol.PathRestored.class, r -> {
            faults.tell(new FaultRouter.Signal(
                new FaultDetector.PathRestored(r.nodeId(), r.subsystemNqn(), r.peerAddress())));
            return Behaviors.same();
          })
          .onAnyMessage(r -> Behaviors.same())
          .build();
    });
  }
}
