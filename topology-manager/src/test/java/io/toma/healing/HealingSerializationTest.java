package io.toma.healing;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.typesafe.config.ConfigFactory;
import io.toma.persistence.CborSerializable;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import org.apache.pekko.actor.testkit.typed.javadsl.ActorTestKit;
import org.apache.pekko.actor.testkit.typed.javadsl.SerializationTestKit;
import org.apache.pekko.serialization.Serialization;
import org.apache.pekko.serialization.SerializationExtension;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Every healing event and state goes into the VirtualDisk journal through Jackson CBOR: each must
 * come back equal, or a manager restart would resume a different repair than the one recorded.
 */
class HealingSerializationTest {

  private static ActorTestKit testKit;

  @BeforeAll
  static void start() {
    // The binding the persistence module declares in its reference.conf, stated here so this test
    // does not depend on that file being on the branch yet.
    testKit = ActorTestKit.create("healing-serialization", ConfigFactory.parseString(
        "pekko.actor.serialization-bindings {\n"
            + "  \"io.toma.persistence.CborSerializable\" = jackson-cbor\n"
            + "}\n").withFallback(ConfigFactory.load()));
  }

  @AfterAll
  static void stop() {
    testKit.shutdownTestKit();
  }

  @Test
  void everyFailoverEventAndStateRoundTripsThroughTheJournalFormat() {
    List<CborSerializable> all = new ArrayList<>();
    FailoverTest.Volume v = new FailoverTest.Volume().start(new Failover.Start("v1", "n1", 4,
        List.of("n2", "n3"), Set.of("n1", "d1", "d2", "d3"), "node n1 lost"), 0);
    all.add(v.state);
    v.on(new Failover.FenceAck("d1", 5), 1).on(new Failover.NodeUnreachable("n3"), 2)
        .on(new Failover.NodeUnreachable("d2"), 3).restart(4).on(new Failover.Tick(), 60_000);
    all.add(v.state);
    v.on(new Failover.PromotionAck("n2", 5), 60_001)
        .on(new Failover.StandbyPlaced("n4"), 60_002);
    all.add(v.state);
    all.addAll(v.journal);
    all.add(Failover.start(new Failover.Start("v2", "n1", 1, List.of(), Set.of(), "lost"), 0,
        HealingSettings.defaults(), SafetyOverrides.SAFE).events().get(4));

    assertCovers(all, Failover.Event.class);
    verifyAll(all);
  }

  @Test
  void everyRebuildEventAndStateRoundTripsThroughTheJournalFormat() {
    List<CborSerializable> all = new ArrayList<>();
    RebuildTest.Member m = new RebuildTest.Member().on(new Rebuild.Begin())
        .on(new Rebuild.Refused("full")).on(new Rebuild.Begin())
        .on(new Rebuild.Granted(RebuildTest.NEW)).on(new Rebuild.AttachApplied(1))
        .on(new Rebuild.SyncProgress(10)).on(new Rebuild.ReplacementLost("node lost"))
        .on(new Rebuild.Begin()).on(new Rebuild.Granted(RebuildTest.NEW));
    all.add(m.state);
    m.on(new Rebuild.AttachApplied(1)).on(new Rebuild.OldMemberRemoved())
        .on(new Rebuild.SyncComplete()).on(new Rebuild.ExtentReleaseConfirmed(RebuildTest.OLD));
    all.add(m.state);
    all.addAll(m.journal);

    assertCovers(all, Rebuild.Event.class);
    verifyAll(all);
  }

  @Test
  void detectorStateFaultsAndHealthRoundTrip() {
    DetectorRun run = DetectorRun.aCluster(3, 2);
    run.unreachableByAllOthers("r1-n1", List.of("r1-n2")).unreachableByAllOthers("r1-n2",
            List.of("r1-n1"))
        .signal(new FaultDetector.PathLost("r2-n1", "nqn.x", "r3-n1"))
        .signal(new FaultDetector.RaidMemberFailed("r2-n1", "v1", 0, 1))
        .signal(new FaultDetector.DiskFailed("r3-n2", "nvme0", "gone"));
    List<CborSerializable> all = new ArrayList<>();
    all.add(run.state);
    run.advance(30_000);
    all.add(run.state);
    all.addAll(run.faults);
    all.addAll(run.unreachable);
    all.add(new FaultDetector.NodeLost("n", "downed"));
    all.add(new FaultDetector.NodeBack("n"));
    all.add(new FaultDetector.LinkBack("a", "b"));
    all.add(new FaultDetector.RaidMemberBack("a", new Refs.LegRef("v", 0), 1));

    assertCovers(all, FaultDetector.Fault.class);
    verifyAll(all);
  }

  @Test
  void aFaultReadBackAsItsInterfaceKeepsItsType() throws Exception {
    Serialization serialization = SerializationExtension.get(testKit.system().classicSystem());
    FaultDetector.Fault fault = new FaultDetector.RackLost("r1", Set.of("a", "b"));

    byte[] bytes = serialization.serialize(fault).get();
    Object back = serialization.deserialize(bytes, serialization.findSerializerFor(fault)
        .identifier(), org.apache.pekko.serialization.Serializers.manifestFor(
            serialization.findSerializerFor(fault), fault)).get();

    assertEquals(fault, back);
    assertEquals("jackson-cbor",
        serialization.settings().config().getString("pekko.actor.serialization-bindings"
            + ".\"io.toma.persistence.CborSerializable\""));
  }

  /** How the VirtualDisk will journal them: wrapped in its own event, typed by the interface. */
  record FailoverStepped(Failover.Event step) implements CborSerializable {}

  record RebuildStepped(Refs.MemberRef member, Rebuild.Event step) implements CborSerializable {}

  record FaultsSeen(List<FaultDetector.Fault> faults) implements CborSerializable {}

  @Test
  void eventsNestedInTheEntitysOwnEventsKeepTheirType() {
    verifyAll(List.of(
        new FailoverStepped(new Failover.PromotionRequested("n2", 5, Set.of("d3"), false)),
        new FailoverStepped(new Failover.Done(Optional.empty(), "no standby")),
        new RebuildStepped(RebuildTest.LOST, new Rebuild.Attached(1, RebuildTest.NEW)),
        new FaultsSeen(List.of(new FaultDetector.LinkLost("a", "b", "path"),
            new FaultDetector.RackLost("r1", Set.of("a", "b"))))));
  }

  private static void verifyAll(List<CborSerializable> all) {
    SerializationTestKit kit = testKit.serializationTestKit();
    for (CborSerializable o : all) {
      kit.verifySerialization(o, true);
    }
  }

  /** Every permitted event type appears at least once in what was round-tripped. */
  private static void assertCovers(List<CborSerializable> all, Class<?> sealed) {
    for (Class<?> type : permittedLeaves(sealed)) {
      assertTrue(all.stream().anyMatch(type::isInstance),
          () -> "no " + type.getSimpleName() + " was round-tripped");
    }
  }

  private static List<Class<?>> permittedLeaves(Class<?> type) {
    if (!type.isSealed()) {
      return List.of(type);
    }
    List<Class<?>> leaves = new ArrayList<>();
    for (Class<?> sub : type.getPermittedSubclasses()) {
      leaves.addAll(permittedLeaves(sub));
    }
    return leaves;
  }
}
