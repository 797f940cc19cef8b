package io.toma.api.cluster;

import io.toma.api.ApiEvent;
import io.toma.api.ApiEvents;
import java.util.Optional;
import java.util.function.Function;
import org.apache.pekko.NotUsed;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.javadsl.Adapter;
import org.apache.pekko.actor.typed.pubsub.Topic;
import org.apache.pekko.stream.OverflowStrategy;
import org.apache.pekko.stream.javadsl.Source;

/**
 * The event stream of {@code GET /api/v1/events} over a cluster-wide pub-sub {@link Topic}: each
 * subscriber gets its own source, whose actor subscribes to the topic when the stream starts (the
 * topic drops it when the stream ends and the actor stops). A slow client loses the oldest events
 * first rather than holding the publishers back.
 *
 * @param <E> the topic's event type, turned into API events by {@code toApi} (empty: not shown)
 */
public final class TopicApiEvents<E> implements ApiEvents {
  /** Events kept for one slow subscriber before the oldest are dropped. */
  public static final int BUFFER = 256;

  private final ActorRef<Topic.Command<E>> topic;
  private final Function<E, Optional<ApiEvent>> toApi;

  public TopicApiEvents(ActorRef<Topic.Command<E>> topic, Function<E, Optional<ApiEvent>> toApi) {
    this.topic = topic;
    this.toApi = toApi;
  }

  /**
   * An API event from its parts, the kind in its wire name ({@code volume-state},
   * {@code fault-detected}, {@code repair-step}); empty for a kind the API does not show.
   */
  public static Optional<ApiEvent> event(String kind, String subject, String message, long timestampMillis) {
    for (ApiEvent.Type type : ApiEvent.Type.values()) {
      if (type.wireName().equals(kind)) {
        return Optional.of(new ApiEvent(type, subject, message, timestampMillis));
      }
    }
    return Optional.empty();
  }

  @Override
  public Source<ApiEvent, NotUsed> subscribe() {
    Source<E, org.apache.pekko.actor.ActorRef> events = Source.actorRef(
        message -> Optional.empty(), // never completes: the client ends it by going away
        message -> Optional.empty(),
        BUFFER,
        OverflowStrategy.dropHead());
    return events
        .mapMaterializedValue(ref -> {
          topic.tell(Topic.subscribe(Adapter.toTyped(ref)));
          return NotUsed.getInstance();
        })
        .map(toApi::apply)
        .filter(Optional::isPresent)
        .map(Optional::get);
  }
}
