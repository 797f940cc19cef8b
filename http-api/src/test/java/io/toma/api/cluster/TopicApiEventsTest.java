package io.toma.api.cluster;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.toma.api.ApiEvent;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CompletionStage;
import org.apache.pekko.actor.testkit.typed.javadsl.ActorTestKit;
import org.apache.pekko.actor.testkit.typed.javadsl.TestProbe;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.pubsub.Topic;
import org.apache.pekko.stream.javadsl.Sink;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;

class TopicApiEventsTest {
  static final ActorTestKit testKit = ActorTestKit.create();

  @AfterAll
  static void stop() {
    testKit.shutdownTestKit();
  }

  @Test
  void aSubscriberSeesWhatIsPublishedOnTheTopicAfterItSubscribedAndNothingThatIsFilteredOut() {
    ActorRef<Topic.Command<String>> topic = testKit.spawn(Topic.create(String.class, "events-test"));
    TopicApiEvents<String> events = new TopicApiEvents<>(topic,
        s -> TopicApiEvents.event(s.startsWith("hidden") ? "gossip" : "fault-detected", "node-1", s, 7));
    CompletionStage<List<ApiEvent>> seen = events.subscribe().take(2).runWith(Sink.seq(), testKit.system());

    // The subscription reaches the topic asynchronously: publish until the stream has its two.
    TestProbe<Object> probe = testKit.createTestProbe();
    probe.awaitAssert(Duration.ofSeconds(30), Duration.ofMillis(100), () -> {
      topic.tell(Topic.publish("hidden noise"));
      topic.tell(Topic.publish("disk node-1-nvme0 lost"));
      assertTrue(seen.toCompletableFuture().isDone(), "not yet");
      return null;
    });
    List<ApiEvent> got = seen.toCompletableFuture().join();
    assertEquals(2, got.size());
    got.forEach(e -> {
      assertEquals("disk node-1-nvme0 lost", e.message());
      assertEquals(ApiEvent.Type.FAULT_DETECTED, e.type());
      assertEquals("node-1", e.subject());
    });
  }
}
