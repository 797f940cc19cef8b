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
import io.toma.persistence.CborSerializable;
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

  /**
   * One map for disks and nodes (entries "disk/<id>" and "node/<id>"): typed message adapters are
   * keyed by message class, so one actor can only hold one ReplicatorMessageAdapter subscription.
   */
  public static final Key<LWWMap<String, CborSerializable>> KEY = LWWMapKey.create("toma-capacity");

  public sealed interface Command
      permits PublishDisk, PublishNode, GetSnapshot, Changed, UpdateDone {}

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

  private record Changed(Map<String, CborSerializable> entries) implements Command {}

  private enum UpdateDone implements Command {
    INSTANCE
  }

  public static Behavior<Command> create() {
    return Behaviors.setup(
        ctx ->
            DistributedData.<Command, LWWMap<String, CborSerializable>>withReplicatorMessageAdapter(
                replicator -> new CapacityView(ctx, replicator)));
  }

  private final ReplicatorMessageAdapter<Command, LWWMap<String, CborSerializable>> replicator;
  private final SelfUniqueAddress self;
  private final Map<String, DiskFacts> disks = new TreeMap<>();
  private final Map<String, NodeFacts> nodes = new TreeMap<>();

  private CapacityView(
      ActorContext<Command> context,
      ReplicatorMessageAdapter<Command, LWWMap<String, CborSerializable>> replicator) {
    super(context);
    this.replicator = replicator;
    this.self = DistributedData.get(context.getSystem()).selfUniqueAddress();
    replicator.subscribe(KEY, changed -> changed instanceof Replicator.Changed<LWWMap<String, CborSerializable>> c
        ? new Changed(c.get(KEY).getEntries())
        : new Changed(Map.of()));
  }

  @Override
  public Receive<Command> createReceive() {
    return newReceiveBuilder()
        .onMessage(PublishDisk.class, m -> {
          // The local copy changes at once, so the next placement on this node sees it.
          disks.put(m.facts().diskId(), m.facts());
          publish("disk/" + m.facts().diskId(), m.facts());
          return this;
        })
        .onMessage(PublishNode.class, m -> {
          nodes.put(m.facts().nodeId(), m.facts());
          publish("node/" + m.facts().nodeId(), m.facts());
          return this;
        })
        .onMessage(GetSnapshot.class, m -> {
          m.replyTo().tell(new Snapshot(List.copyOf(disks.values()), List.copyOf(nodes.values())));
          return this;
        })
        .onMessage(Changed.class, m -> {
          m.entries().forEach((key, value) -> {
            if (value instanceof DiskFacts d) {
              disks.put(d.diskId(), d);
            } else if (value instanceof NodeFacts n) {
              nodes.put(n.nodeId(), n);
            }
          });
          return this;
        })
        .onMessage(UpdateDone.class, m -> this)
        .build();
  }

  private void publish(String key, CborSerializable value) {
    replicator.askUpdate(
        replyTo -> new Replicator.Update<>(KEY, LWWMap.create(), Replicator.writeLocal(), replyTo,
            current -> current.put(self, key, value)),
        response -> UpdateDone.INSTANCE);
  }
}
