package io.toma.node;

import com.fasterxml.jackson.annotation.JsonCreator;
import com.fasterxml.jackson.annotation.JsonValue;
import io.toma.persistence.CborSerializable;
import io.toma.topology.ControllerRole;
import io.toma.topology.NodeFacts;
import java.util.BitSet;
import java.util.Collections;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeMap;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.actor.typed.Behavior;
import org.apache.pekko.actor.typed.javadsl.Behaviors;
import org.apache.pekko.cluster.sharding.typed.javadsl.ClusterSharding;
import org.apache.pekko.cluster.sharding.typed.javadsl.Entity;
import org.apache.pekko.cluster.sharding.typed.javadsl.EntityTypeKey;
import org.apache.pekko.persistence.typed.PersistenceId;
import org.apache.pekko.persistence.typed.RecoveryCompleted;
import org.apache.pekko.persistence.typed.SnapshotAdapter;
import org.apache.pekko.persistence.typed.javadsl.CommandHandler;
import org.apache.pekko.persistence.typed.javadsl.Effect;
import org.apache.pekko.persistence.typed.javadsl.EventHandler;
import org.apache.pekko.persistence.typed.javadsl.EventSourcedBehavior;
import org.apache.pekko.persistence.typed.javadsl.RetentionCriteria;
import org.apache.pekko.persistence.typed.javadsl.SignalHandler;

/**
 * One machine (entity id = node id), the single writer of its controller slots: each volume it
 * hosts a controller of gets its own NVMe-oF port, whose service id is allocated here from a
 * range, so two volumes never share a port (each port carries one volume's ANA group). It also
 * holds the node's registration facts, whether an operator cordoned it, and whether the fault
 * router declared it lost: a lost node gets no new controller until its agent registers again.
 */
public final class ControllerNode
    extends EventSourcedBehavior<ControllerNode.Command, ControllerNode.Event, ControllerNode.State> {

  public static final EntityTypeKey<Command> TYPE_KEY =
      EntityTypeKey.create(Command.class, "ControllerNode");

  /** First service id of the controller ports; disk ports use 4420. */
  public static final int FIRST_CONTROLLER_SERVICE_ID = 4430;

  public sealed interface Command extends CborSerializable
      permits Register, SetCordoned, MarkLost, HostController, ReleaseController, Get {}

  public record Register(
      Set<String> roles, String zone, String rack, String fabricAddress, String hostNqn)
      implements Command {}

  public record SetCordoned(boolean cordoned, ActorRef<NodeReply> replyTo) implements Command {}

  /** The fault router declared the node lost; idempotent. A later {@link Register} brings it back. */
  public record MarkLost(String reason) implements Command {}

  /** Reserve a controller slot (a port) for the volume here; idempotent per volume. */
  public record HostController(String volumeId, ControllerRole role, ActorRef<SlotReply> replyTo)
      implements Command {}

  public record ReleaseController(String volumeId, ActorRef<NodeReply> replyTo) implements Command {}

  public record Get(ActorRef<NodeReply> replyTo) implements Command {}

  public sealed interface SlotReply extends CborSerializable permits SlotGranted, SlotRefused {}

  public record SlotGranted(NodeFacts node, int serviceId) implements SlotReply {}

  public record SlotRefused(String nodeId, String reason) implements SlotReply {}

  public sealed interface NodeReply extends CborSerializable permits NodeStatus, UnknownNode {}

  public record NodeStatus(NodeFacts facts, Map<String, HostedController> hosted) implements NodeReply {}

  public record UnknownNode(String nodeId) implements NodeReply {}

  public record HostedController(ControllerRole role, int serviceId) implements CborSerializable {}

  public sealed interface Event extends CborSerializable
      permits NodeRegistered, CordonChanged, NodeDeclaredLost, ControllerHosted, ControllerReleased {}

  public record NodeRegistered(
      Set<String> roles, String zone, String rack, String fabricAddress, String hostNqn)
      implements Event {}

  public record CordonChanged(boolean cordoned) implements Event {}

  /** The node was declared lost; the next {@link NodeRegistered} clears it. */
  public record NodeDeclaredLost(String reason) implements Event {}

  public record ControllerHosted(String volumeId, ControllerRole role, int serviceId) implements Event {}

  public record ControllerReleased(String volumeId) implements Event {}

  public record State(Optional<NodeRegistered> registration, boolean cordoned, HostedControllers hosted,
      boolean lost) implements CborSerializable {

    Optional<NodeFacts> facts(String nodeId) {
      return registration.map(r -> new NodeFacts(
          nodeId, r.roles(), r.zone(), r.rack(), r.fabricAddress(), r.hostNqn(), cordoned, hosted.size(), lost));
    }
  }

  /**
   * The controllers a node hosts, by volume, with the ports in use kept beside them. Changed in
   * place by the event handler (it runs on the entity's thread and the value never leaves it:
   * replies and snapshots get copies), so hosting a controller costs O(log n), not a copy of
   * every hosted controller and a rebuilt set of every port in use. Serialized as the plain map.
   */
  public static final class HostedControllers {
    private final TreeMap<String, HostedController> byVolume;
    private final BitSet usedPorts = new BitSet();

    @JsonCreator(mode = JsonCreator.Mode.DELEGATING)
    public HostedControllers(Map<String, HostedController> byVolume) {
      this.byVolume = new TreeMap<>(byVolume);
      this.byVolume.values().forEach(h -> usedPorts.set(h.serviceId() - FIRST_CONTROLLER_SERVICE_ID));
    }

    /** A read-only view, for this entity's own use. */
    @JsonValue
    public Map<String, HostedController> asMap() {
      return Collections.unmodifiableMap(byVolume);
    }

    /** A copy, for anything that leaves the entity. */
    Map<String, HostedController> copy() {
      return Map.copyOf(byVolume);
    }

    Optional<HostedController> get(String volumeId) {
      return Optional.ofNullable(byVolume.get(volumeId));
    }

    int size() {
      return byVolume.size();
    }

    /** The lowest free service id of the range, or empty when every slot is taken. */
    Optional<Integer> freeServiceId(int slots) {
      int free = usedPorts.nextClearBit(0);
      return free < slots ? Optional.of(FIRST_CONTROLLER_SERVICE_ID + free) : Optional.empty();
    }

    void put(String volumeId, HostedController hosted) {
      HostedController before = byVolume.put(volumeId, hosted);
      if (before != null) {
        usedPorts.clear(before.serviceId() - FIRST_CONTROLLER_SERVICE_ID);
      }
      usedPorts.set(hosted.serviceId() - FIRST_CONTROLLER_SERVICE_ID);
    }

    void remove(String volumeId) {
      HostedController before = byVolume.remove(volumeId);
      if (before != null) {
        usedPorts.clear(before.serviceId() - FIRST_CONTROLLER_SERVICE_ID);
      }
    }

    @Override
    public boolean equals(Object o) {
      return o instanceof HostedControllers other && byVolume.equals(other.byVolume);
    }

    @Override
    public int hashCode() {
      return byVolume.hashCode();
    }

    @Override
    public String toString() {
      return byVolume.toString();
    }
  }

  public static void init(ActorSystem<?> system, NodeObserver observer, int slots, int snapshotEvery) {
    ClusterSharding.get(system)
        .init(Entity.of(TYPE_KEY, ctx -> create(ctx.getEntityId(), observer, slots, snapshotEvery))
            .withRole("manager"));
  }

  public static Behavior<Command> create(String nodeId, NodeObserver observer, int slots, int snapshotEvery) {
    return Behaviors.setup(ctx -> new ControllerNode(nodeId, observer, slots, snapshotEvery));
  }

  private final String nodeId;
  private final NodeObserver observer;
  private final int slots;
  private final int snapshotEvery;

  private ControllerNode(String nodeId, NodeObserver observer, int slots, int snapshotEvery) {
    super(PersistenceId.of(TYPE_KEY.name(), nodeId));
    this.nodeId = nodeId;
    this.observer = observer;
    this.slots = slots;
    this.snapshotEvery = snapshotEvery;
  }

  @Override
  public State emptyState() {
    return new State(Optional.empty(), false, new HostedControllers(Map.of()), false);
  }

  @Override
  public RetentionCriteria retentionCriteria() {
    return RetentionCriteria.snapshotEvery(snapshotEvery, 2);
  }

  /** Snapshots a copy taken on the entity's thread: later events change the hosted map in place. */
  @Override
  public SnapshotAdapter<State> snapshotAdapter() {
    return new SnapshotAdapter<>() {
      @Override
      public Object toJournal(State state) {
        return new State(state.registration(), state.cordoned(), new HostedControllers(state.hosted().asMap()),
            state.lost());
      }

      @Override
      public State fromJournal(Object from) {
        return (State) from;
      }
    };
  }

  @Override
  public SignalHandler<State> signalHandler() {
    return newSignalHandlerBuilder()
        .onSignal(RecoveryCompleted.instance(), state -> state.facts(nodeId).ifPresent(observer::changed))
        .build();
  }

  @Override
  public CommandHandler<Command, Event, State> commandHandler() {
    return newCommandHandlerBuilder()
        .forAnyState()
        .onCommand(Register.class, this::onRegister)
        .onCommand(SetCordoned.class, this::onSetCordoned)
        .onCommand(MarkLost.class, this::onMarkLost)
        .onCommand(HostController.class, this::onHost)
        .onCommand(ReleaseController.class, this::onRelease)
        .onCommand(Get.class, (state, cmd) -> {
          cmd.replyTo().tell(reply(state));
          return Effect().none();
        })
        .build();
  }

  private NodeReply reply(State state) {
    return state.facts(nodeId).<NodeReply>map(f -> new NodeStatus(f, state.hosted().copy())).orElse(new UnknownNode(nodeId));
  }

  private Effect<Event, State> onRegister(State state, Register cmd) {
    NodeRegistered event = new NodeRegistered(
        Set.copyOf(cmd.roles()), cmd.zone(), cmd.rack(), cmd.fabricAddress(), cmd.hostNqn());
    // the same registration from a node declared lost is news: the node is back
    if (state.registration().equals(Optional.of(event)) && !state.lost()) {
      state.facts(nodeId).ifPresent(observer::changed);
      return Effect().none();
    }
    return Effect().persist(event).thenRun(s -> s.facts(nodeId).ifPresent(observer::changed));
  }

  private Effect<Event, State> onSetCordoned(State state, SetCordoned cmd) {
    if (state.registration().isEmpty()) {
      cmd.replyTo().tell(new UnknownNode(nodeId));
      return Effect().none();
    }
    if (state.cordoned() == cmd.cordoned()) {
      cmd.replyTo().tell(reply(state));
      return Effect().none();
    }
    return Effect().persist(new CordonChanged(cmd.cordoned())).thenRun(s -> {
      s.facts(nodeId).ifPresent(observer::changed);
      cmd.replyTo().tell(reply(s));
    });
  }

  private Effect<Event, State> onMarkLost(State state, MarkLost cmd) {
    if (state.lost() || state.registration().isEmpty()) {
      return Effect().none();
    }
    return Effect().persist(new NodeDeclaredLost(cmd.reason()))
        .thenRun(s -> s.facts(nodeId).ifPresent(observer::changed));
  }

  private Effect<Event, State> onHost(State state, HostController cmd) {
    Optional<NodeFacts> facts = state.facts(nodeId);
    if (facts.isEmpty()) {
      cmd.replyTo().tell(new SlotRefused(nodeId, "node not registered"));
      return Effect().none();
    }
    Optional<HostedController> existing = state.hosted().get(cmd.volumeId());
    if (existing.isPresent()) {
      cmd.replyTo().tell(new SlotGranted(facts.get(), existing.get().serviceId()));
      return Effect().none();
    }
    if (!facts.get().canHostControllers()) {
      cmd.replyTo().tell(new SlotRefused(nodeId, "node has no controller role"));
      return Effect().none();
    }
    if (state.cordoned()) {
      cmd.replyTo().tell(new SlotRefused(nodeId, "node cordoned"));
      return Effect().none();
    }
    if (state.lost()) {
      cmd.replyTo().tell(new SlotRefused(nodeId, "node declared lost; it is placeable again once it registers"));
      return Effect().none();
    }
    Optional<Integer> serviceId = state.hosted().freeServiceId(slots);
    if (serviceId.isEmpty()) {
      cmd.replyTo().tell(new SlotRefused(nodeId, "all " + slots + " controller slots taken"));
      return Effect().none();
    }
    return Effect()
        .persist(new ControllerHosted(cmd.volumeId(), cmd.role(), serviceId.get()))
        .thenRun(s -> {
          NodeFacts now = s.facts(nodeId).orElseThrow();
          observer.changed(now);
          cmd.replyTo().tell(new SlotGranted(now, serviceId.get()));
        });
  }

  private Effect<Event, State> onRelease(State state, ReleaseController cmd) {
    if (state.hosted().get(cmd.volumeId()).isEmpty()) {
      cmd.replyTo().tell(reply(state));
      return Effect().none();
    }
    return Effect().persist(new ControllerReleased(cmd.volumeId())).thenRun(s -> {
      s.facts(nodeId).ifPresent(observer::changed);
      cmd.replyTo().tell(reply(s));
    });
  }

  @Override
  public EventHandler<State, Event> eventHandler() {
    return newEventHandlerBuilder()
        .forAnyState()
        .onEvent(NodeRegistered.class, (s, e) -> new State(Optional.of(e), s.cordoned(), s.hosted(), false))
        .onEvent(CordonChanged.class, (s, e) -> new State(s.registration(), e.cordoned(), s.hosted(), s.lost()))
        .onEvent(NodeDeclaredLost.class, (s, e) -> new State(s.registration(), s.cordoned(), s.hosted(), true))
        .onEvent(ControllerHosted.class, (s, e) -> {
          s.hosted().put(e.volumeId(), new HostedController(e.role(), e.serviceId()));
          return s;
        })
        .onEvent(ControllerReleased.class, (s, e) -> {
          s.hosted().remove(e.volumeId());
          return s;
        })
        .build();
  }
}
