package io.toma.api;

import org.apache.pekko.NotUsed;
import org.apache.pekko.stream.javadsl.Source;

/** Where {@code GET /api/v1/events} reads from: volume state changes, faults detected, repair steps. */
public interface ApiEvents {

  /**
   * A fresh source for one subscriber, starting now (no replay). It may never complete; the server
   * cancels it when the client goes away.
   */
  Source<ApiEvent, NotUsed> subscribe();

  /** No events at all, for a server started without an event source. */
  static ApiEvents none() {
    return () -> Source.<ApiEvent>never().mapMaterializedValue(m -> NotUsed.getInstance());
  }
}
