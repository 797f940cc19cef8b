package io.toma.healing;

import io.toma.healing.RebuildPermits.Key;
import io.toma.healing.RepairScheduler.PendingRepair;
import io.toma.persistence.CborSerializable;
import java.time.Duration;
import java.util.Map;
import java.util.function.Consumer;
import java.util.function.LongSupplier;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.actor.typed.Behavior;
import org.apache.pekko.actor.typed.javadsl.Behaviors;
import org.apache.pekko.cluster.typed.ClusterSingleton;
import org.apache.pekko.cluster.typed.ClusterSingletonSettings;
import org.apache.pekko.cluster.typed.SingletonActor;

/**
 * The thin shell around {@link RebuildPermits}: one per cluster (a singleton on the manager role),
 * so the caps hold across every volume. Volumes ask before a rebuild starts copying and renew what
 * they hold on their tick; admissions are told to the volume through {@code admitted} (sharding in
 * production), not to an ActorRef, so an answer still reaches a volume that restarted meanwhile.
 *
 * <p>Its state is soft on purpose: after a hand-over or a manager restart it starts empty, the
 * volumes' renewals count their copying rebuilds again at once and queue the others, and leases
 * of volumes that stopped renewing run out.
 */
public final class RebuildCoordinator {
  private RebuildCoordinator() {}

  public sealed interface Command permits Acquire, Renew, Release, Get, Expire {}

  /** Volume {@code volume} wants to start the rebuild of {@code lostTag}, loading these disks. */
  public record Acquire(String volume, String lostTag, PendingRepair repair) implements Command, CborSerializable {}

  /**
   * Every rebuild of {@code volume} that still needs a permit: {@code copying} are past admission,
   * {@code asking} wait for one. Anything else the volume held is released.
   */
  public record Renew(String volume, Map<String, PendingRepair> copying, Map<String, PendingRepair> asking)
      implements Command, CborSerializable {
    public Renew {
      copying = Canonical.map(copying);
      asking = Canonical.map(asking);
    }
  }

  public record Release(String volume, String lostTag) implements Command, CborSerializable {}

  /** The table as it stands (operators, tests). */
  public record Get(ActorRef<RebuildPermits> replyTo) implements Command, CborSerializable {}

  private record Expire() implements Command {}

  /** Start (or find) the cluster's coordinator; admissions go to the volumes through sharding. */
  public static ActorRef<Command> init(ActorSystem<?> system, HealingSettings settings, Duration lease,
      Consumer<Key> admitted) {
    return ClusterSingleton.get(system).init(SingletonActor.of(
        create(settings, lease, admitted, System::currentTimeMillis), "toma-rebuild-coordinator")
        .withSettings(ClusterSingletonSettings.create(system).withRole("manager")));
  }

  public static Behavior<Command> create(HealingSettings settings, Duration lease, Consumer<Key> admitted,
      LongSupplier clock) {
    return Behaviors.setup(ctx -> Behaviors.withTimers(timers -> {
      timers.startTimerWithFixedDelay(new Expire(), lease.dividedBy(4));
      return running(RebuildPermits.empty(RebuildPermits.Caps.of(settings)), lease.toMillis(), admitted, clock);
    }));
  }

  private static Behavior<Command> running(RebuildPermits permits, long lease, Consumer<Key> admitted,
      LongSupplier clock) {
    return Behaviors.receive(Command.class)
        .onMessage(Acquire.class, a -> next(permits.request(new Key(a.volume(), a.lostTag()), a.repair(),
            clock.getAsLong(), lease), lease, admitted, clock))
        .onMessage(Renew.class, r -> next(permits.renew(r.volume(), r.copying(), r.asking(), clock.getAsLong(),
            lease), lease, admitted, clock))
        .onMessage(Release.class, r -> next(permits.release(new Key(r.volume(), r.lostTag()), clock.getAsLong()),
            lease, admitted, clock))
        .onMessage(Expire.class, e -> next(permits.expire(clock.getAsLong()), lease, admitted, clock))
        .onMessage(Get.class, g -> {
          g.replyTo().tell(permits);
          return Behaviors.same();
        })
        .build();
  }

  private static Behavior<Command> next(RebuildPermits.Step step, long lease, Consumer<Key> admitted,
      LongSupplier clock) {
    step.admitted().forEach(admitted);
    return running(step.permits(), lease, admitted, clock);
  }
}
