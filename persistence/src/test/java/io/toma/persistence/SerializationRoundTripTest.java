package io.toma.persistence;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;

import com.typesafe.config.ConfigFactory;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import org.apache.pekko.actor.testkit.typed.annotations.JUnit5TestKit;
import org.apache.pekko.actor.testkit.typed.javadsl.ActorTestKit;
import org.apache.pekko.actor.testkit.typed.javadsl.JUnit5TestKitBuilder;
import org.apache.pekko.actor.testkit.typed.javadsl.SerializationTestKit;
import org.apache.pekko.actor.testkit.typed.javadsl.TestKitJUnit5Extension;
import org.apache.pekko.actor.testkit.typed.javadsl.TestProbe;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.serialization.SerializationExtension;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.extension.ExtendWith;

@ExtendWith(TestKitJUnit5Extension.class)
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class SerializationRoundTripTest {

  @JUnit5TestKit
  public ActorTestKit testKit =
      new JUnit5TestKitBuilder().withCustomConfig(ConfigFactory.load()).build();

  // ---- shapes like the ones Toma's modules send and persist ----

  sealed interface Command extends KryoSerializable {}

  record Member(String diskId, long sizeBytes) {}

  record Apply(
      String volumeId,
      long revision,
      Optional<String> note,
      List<Member> members,
      Set<String> hosts,
      Map<String, Integer> slots,
      ActorRef<String> replyTo)
      implements Command {}

  record Forget(String volumeId, Optional<String> reason) implements Command {}

  /** Two fields pointing at one object: Kryo must keep it one object. */
  record Pair(Member left, Member right) implements KryoSerializable {}

  record ExtentGranted(
      String diskId, long offset, Optional<String> volumeId, Optional<String> leg,
      List<Long> extents, ActorRef<String> owner)
      implements CborSerializable {}

  enum Health { HEALTHY, DEGRADED }

  record VolumeSnapshot(String id, Health health, Map<String, List<Member>> legs)
      implements CborSerializable {}

  @Test
  void clusterMessagesAreWrittenWithKryo() {
    Object message = new Forget("vol-1", Optional.empty());
    assertEquals(
        KryoSerializer.IDENTIFIER,
        SerializationExtension.get(testKit.system()).findSerializerFor(message).identifier());
  }

  @Test
  void aClusterMessageWithAnActorRefOptionalsAndImmutableCollectionsRoundTrips() {
    TestProbe<String> probe = testKit.createTestProbe();
    SerializationTestKit serialization = new SerializationTestKit(testKit.system());
    Apply apply =
        new Apply(
            "vol-1",
            7,
            Optional.of("after rack r2 was lost"),
            List.of(new Member("d1", 1L << 40), new Member("d2", 2L << 40)),
            Set.of("nqn.2014-08.org.nvmexpress:host-a", "nqn.2014-08.org.nvmexpress:host-b"),
            Map.of("ctrl-1", 0, "ctrl-2", 1),
            probe.ref());
    Apply copy = serialization.verifySerialization(apply, true);
    copy.replyTo().tell("resolved");
    probe.expectMessage("resolved");
    serialization.verifySerialization(new Forget("vol-1", Optional.empty()), true);
    serialization.verifySerialization(
        new Forget("vol-2", Optional.of("deleted")), true);
  }

  @Test
  void kryoKeepsASharedObjectShared() {
    Member shared = new Member("d1", 42);
    SerializationTestKit serialization = new SerializationTestKit(testKit.system());
    Pair copy = serialization.verifySerialization(new Pair(shared, shared), true);
    assertSame(copy.left(), copy.right());
  }

  @Test
  void eventsAndSnapshotsAreWrittenWithJacksonCborAndRoundTrip() throws Exception {
    TestProbe<String> probe = testKit.createTestProbe();
    ExtentGranted event =
        new ExtentGranted(
            "d1", 4096, Optional.of("vol-1"), Optional.empty(), List.of(1L, 2L), probe.ref());
    assertEquals(
        "org.apache.pekko.serialization.jackson.JacksonCborSerializer",
        SerializationExtension.get(testKit.system())
            .serializerFor(ExtentGranted.class)
            .getClass()
            .getName());
    SerializationTestKit serialization = new SerializationTestKit(testKit.system());
    serialization.verifySerialization(event, true);
    serialization.verifySerialization(
        new VolumeSnapshot(
            "vol-1", Health.DEGRADED, Map.of("leg-0", List.of(new Member("d1", 1L << 40)))),
        true);
  }
}
