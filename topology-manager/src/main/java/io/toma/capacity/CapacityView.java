package io.toma.capacity;

import io.toma.topology.DiskFacts;
import io.toma.topology.NodeFacts;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.Behavior;
import org.apache.pekko.actor.typed.javadsl.AbstractBehavior;
import org.apache.pekko.actor.typed.javadsl.ActorContext;
import org.apache.pekko.actor.typed.javadsl.Behaviors;
import org.apache.pekko.actor.typed.javadsl.Receive;
import org.apache.pekko.cluster.ddata.LWWMap;
import org.apache.pekko.cluster.ddata.Key;
import org.apache.pekko.cluster.ddata.LWWMapKey;
import org.apache.pekko.cluster.ddata.SelfUniqueAddress;
import org.apache.pekko.cluster.ddata.typed.javadsl.DistributedData;
import org.apache.pekko.cluster.ddata.typed.javadsl.Replicator;
import org.apache.pekko.cluster.ddata.typed.javadsl.ReplicatorMessageAdapter;

/**
 * The gossiped capacity view (Pekko Distributed Data): per disk its free bytes, node, failure
 * domain and health, and per node its facts (roles, addresses, cordoned, hosted controllers).
 * One actor per manager node; PhysicalDisk and ControllerNode entities publish through the local
 * one, placement reads its local snapshot. The view may lag: the PhysicalDisk entity that grants
 * is the authority, and placement retries elsewhere when a disk refuses.
 */
public final class CapacityView extends AbstractBehavior<CapacityView.Command> {

  public static final Key<LWWMap<String, DiskFacts>> DISKS = LWWMapKey.create("toma-capacity-disks");
  public static final Key<LWWMap<String, NodeFacts>> NODES = LWWMapKey.create("toma-capacity-nodes");

  public sealed interface Command
      permits PublishDisk, PublishNode, GetSnapshot, DisksChanged, NodesChanged, UpdateDone {}

  public record PublishDisk(DiskFacts facts) implements Command {}

  public record PublishNode(NodeFacts facts) implements Command {}

  public record GetSnapshot(ActorRef<Snapshot> replyTo) implements Command {}

  /** An immutable copy of the view, sorted by id. */
  public record Snapshot(List<DiskFacts> disks, List<NodeFacts> nodes) {
    public Snapshot {
      disks = List.copyOf(disks);
      nodes = List.copyOf(nodes);
    }
  }

  private record DisksChanged(Map<String, DiskFacts> entries) implements Command {}

  private record NodesChanged(Map<String, NodeFacts> entries) implements Command {}

  private enum UpdateDone implements Command {
    INSTANCE
  }

  public static Behavior<Command> create() {
    return Behaviors.setup(
        ctx ->
            DistributedData.<Command, LWWMap<String, DiskFacts>>withReplicatorMessageAdapter(
                disks ->
                    DistributedData.<Command, LWWMap<String, NodeFacts>>withReplicatorMessageAdapter(
                        nodes -> new CapacityView(ctx, disks, nodes))));
  }

  private final ReplicatorMessageAdapter<Command, LWWMap<String, DiskFacts>> disksReplicator;
  private final ReplicatorMessageAdapter<Command, LWWMap<String, NodeFacts>> nodesReplicator;
  private final SelfUniqueAddress self;
  private final Map<String, DiskFacts> disks = new TreeMap<>();
  private final Map<String, NodeFacts> nodes = new TreeMap<>();

  private CapacityView(
      ActorContext<Command> context,
      ReplicatorMessageAdapter<Command, LWWMap<String, DiskFacts>> disksReplicator,
      ReplicatorMessageAdapter<Command, LWWMap<String, NodeFacts>> nodesReplicator) {
    super(context);
    this.disksReplicator = disksReplicator;
    this.nodesReplicator = nodesReplicator;
    this.self = DistributedData.get(context.getSystem()).selfUniqueAddress();
    disksReplicator.subscribe(DISKS, changed -> changed instanceof Replicator.Changed<LWWMap<String, DiskFacts>> c
        ? new DisksChanged(c.get(DISKS).getEntries())
        : new DisksChanged(Map.of()));
    nodesReplicator.subscribe(NODES, changed -> changed instanceof Replicator.Changed<LWWMap<String, NodeFacts>> c
        ? new NodesChanged(c.get(NODES).getEntries())
        : new NodesChanged(Map.of()));
  }

  @Override
  public Receive<Command> createReceive() {
    return newReceiveBuilder()
        .onMessage(PublishDisk.class, this::onPublishDisk)
        .onMessage(PublishNode.class, this::onPublishNode)
        .onMessage(GetSnapshot.class, m -> {
          m.replyTo().tell(new Snapshot(List.copyOf(disks.values()), List.copyOf(nodes.values())));
          return this;
        })
        .onMessage(DisksChanged.class, m -> {
          disks.putAll(m.entries());
          return this;
        })
        .onMessage(NodesChanged.class, m -> {
          nodes.putAll(m.entries());
          return this;
        })
        .onMessage(UpdateDone.class, m -> this)
        .build();
  }

  private Behavior<Command> onPublishDisk(PublishDisk m) {
    // The local copy changes at once, so the next placement on this node sees it.
    disks.put(m.facts().diskId(), m.facts());
    disksReplicator.askUpdate(
        replyTo -> new Replicator.Update<>(DISKS, LWWMap.create(), Replicator.writeLocal(), replyTo,
            current -> current.put(self, m.facts().diskId(), m.facts())),
        response -> UpdateDone.INSTANCE);
    return this;
  }

  private Behavior<Command> onPublishNode(PublishNode m) {
    nodes.put(m.facts().nodeId(), m.facts());
    nodesReplicator.askUpdate(
        replyTo -> new Replicator.Update<>(NODES, LWWMap.create(), Replicator.writeLocal(), replyTo,
            current -> current.put(self, m.facts().nodeId(), m.facts())),
        response -> UpdateDone.INSTANCE);
    return this;
  }
}
