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

  record Ports(java.util.Map<Integer, String> byId, java.util.Set<String> hosts, java.util.List<String> names)
      implements KryoSerializable {}

  @Test
  void kryoReadsUnmodifiableWrappersAndKeepsTheirIterationOrder() {
    // DesiredState and KernelState hold Collections.unmodifiable* views over sorted copies; an Apply
    // carrying them must cross the cluster, and the receiver must iterate in the sender's order.
    java.util.Map<Integer, String> byId = new java.util.TreeMap<>(Map.of(3, "c", 1, "a", 2, "b"));
    java.util.Set<String> hosts = new java.util.TreeSet<>(Set.of("h2", "h1", "h3"));
    Ports ports = new Ports(
        java.util.Collections.unmodifiableMap(byId),
        java.util.Collections.unmodifiableSet(hosts),
        java.util.Collections.unmodifiableList(new java.util.ArrayList<>(List.of("x", "y"))));
    SerializationTestKit serialization = new SerializationTestKit(testKit.system());
    Ports copy = serialization.verifySerialization(ports, true);
    assertEquals(List.of(1, 2, 3), new java.util.ArrayList<>(copy.byId().keySet()));
    assertEquals(List.of("h1", "h2", "h3"), new java.util.ArrayList<>(copy.hosts()));
    org.junit.jupiter.api.Assertions.assertThrows(
        UnsupportedOperationException.class, () -> copy.byId().put(4, "d"));
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
