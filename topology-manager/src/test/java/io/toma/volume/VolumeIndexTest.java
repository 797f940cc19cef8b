package io.toma.volume;

import static org.junit.jupiter.api.Assertions.assertEquals;

import io.toma.testing.TestConfigs;
import java.util.List;
import org.apache.pekko.actor.testkit.typed.javadsl.ActorTestKit;
import org.apache.pekko.persistence.testkit.javadsl.EventSourcedBehaviorTestKit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;

class VolumeIndexTest {

  static final ActorTestKit testKit = ActorTestKit.create("VolumeIndexTest", TestConfigs.persistence());

  @AfterAll
  static void shutdown() {
    testKit.shutdownTestKit();
  }

  @Test
  void theIndexListsVolumesInNameOrderPageByPageAndSurvivesARestartFromASnapshot() {
    var index = EventSourcedBehaviorTestKit.<VolumeIndex.Command, VolumeIndex.Event, VolumeIndex.State>create(
        testKit.system(), VolumeIndex.create("volumes", 3));
    for (String id : List.of("c", "a", "d", "a")) {
      index.runCommand(new VolumeIndex.Add(id));
    }
    VolumeIndex.State atSnapshot = index.getState();
    index.snapshotTestKit().orElseThrow().expectNextPersisted("VolumeIndex|volumes", atSnapshot);
    index.persistenceTestKit().clearByPersistenceId("VolumeIndex|volumes");
    assertEquals(atSnapshot, index.restart().state(), "recovered from the snapshot taken after 3 events");
    index.runCommand(new VolumeIndex.Add("b"));
    index.runCommand(new VolumeIndex.Remove("d"));
    var page = index.<VolumeIndex.IdPage>runCommand(r -> new VolumeIndex.ListIds(1, 2, r)).reply();
    assertEquals(new VolumeIndex.IdPage(List.of("b", "c"), 3), page);
    VolumeIndex.State before = index.getState();
    assertEquals(before, index.restart().state(), "recovered from the snapshot and the events after it");
  }
}
