package io.toma.volume;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Test;

/** Records share the collections an event leaves alone, so no record may ever change one. */
class VolumeRecordSharingTest {

  @Test
  void applyingAnEventLeavesThePreviousRecordAsItWas() {
    VolumeRecord first = VolumeRecord.absent().apply(new VolumeRecord.NodeApplied("n1", 3));

    VolumeRecord second = first.apply(new VolumeRecord.NodeApplied("n2", 4))
        .apply(new VolumeRecord.NodeRemoved("n9"));

    assertEquals(Map.of("n1", 3L), first.appliedRevisions());
    assertEquals(Set.of(), first.removedNodes());
    assertEquals(Map.of("n1", 3L, "n2", 4L), second.appliedRevisions());
    assertEquals(Set.of("n9"), second.removedNodes());
  }

  @Test
  void aCollectionTheEventDoesNotChangeIsSharedAndCannotBeChanged() {
    VolumeRecord first = VolumeRecord.absent().apply(new VolumeRecord.NodeApplied("n1", 3));

    VolumeRecord second = first.apply(new VolumeRecord.NodeRemoved("n9"));

    assertSame(first.appliedRevisions(), second.appliedRevisions());
    assertThrows(UnsupportedOperationException.class, () -> second.appliedRevisions().put("n2", 1L));
  }
}
