package io.toma.topology;

import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.actor.typed.Extension;
import org.apache.pekko.actor.typed.ExtensionId;
import org.apache.pekko.actor.typed.Props;
import org.apache.pekko.actor.typed.pubsub.Topic;

/**
 * The cluster-wide stream of {@link TomaEvent}s: one Pekko typed pub-sub {@link Topic} actor per
 * actor system (an extension, so everyone in the system shares it); topics of the same name on
 * other members find each other through the receptionist, so a subscriber anywhere sees events
 * published anywhere.
 *
 * <pre>
 * TomaEvents.topic(system).tell(Topic.subscribe(myRef));   // ActorRef&lt;TomaEvent&gt; myRef
 * TomaEvents.publish(system, new TomaEvent(kind, subject, message, millis));
 * </pre>
 */
public final class TomaEvents implements Extension {

  public static final String TOPIC_NAME = "toma-events";

  private static final ExtensionId<TomaEvents> ID = new ExtensionId<>() {
    @Override
    public TomaEvents createExtension(ActorSystem<?> system) {
      return new TomaEvents(system);
    }
  };

  private final ActorRef<Topic.Command<TomaEvent>> topic;

  private TomaEvents(ActorSystem<?> system) {
    this.topic = system.systemActorOf(Topic.create(TomaEvent.class, TOPIC_NAME), "toma-events-topic", Props.empty());
  }

  /** The topic actor of this system: send it {@code Topic.subscribe(ref)} or {@code Topic.publish(event)}. */
  public static ActorRef<Topic.Command<TomaEvent>> topic(ActorSystem<?> system) {
    return system.registerExtension(ID).topic;
  }

  public static void publish(ActorSystem<?> system, TomaEvent event) {
    topic(system).tell(Topic.publish(event));
  }
}
