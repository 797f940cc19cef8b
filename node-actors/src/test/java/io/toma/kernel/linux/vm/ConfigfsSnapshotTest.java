package io.toma.kernel.linux.vm;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import org.junit.jupiter.api.Test;

class ConfigfsSnapshotTest {

  private static final String ROOT = "/sys/kernel/config/nvmet";

  private final ConfigfsSnapshot snapshot = ConfigfsSnapshot.parse(ROOT, String.join("\n",
      "D " + ROOT,
      "D " + ROOT + "/subsystems",
      "D " + ROOT + "/subsystems/nqn.x",
      "F " + ROOT + "/subsystems/nqn.x/attr_allow_any_host",
      "|0",
      "F " + ROOT + "/subsystems/nqn.x/attr_model",
      "|Linux",
      "|second line",
      "F " + ROOT + "/subsystems/nqn.x/attr_empty",
      "E " + ROOT + "/subsystems/nqn.x/revalidate_size",
      "D " + ROOT + "/subsystems/nqn.x/allowed_hosts",
      "L " + ROOT + "/subsystems/nqn.x/allowed_hosts/nqn.h",
      "|../../../hosts/nqn.h",
      "D " + ROOT + "/ports",
      ""));

  @Test
  void attributesReadBackWithTheirLinesAndTheKernelsTrailingNewline() {
    assertEquals("0\n", ((ConfigfsSnapshot.File) snapshot.get(ROOT + "/subsystems/nqn.x/attr_allow_any_host").orElseThrow()).content());
    assertEquals("Linux\nsecond line\n", ((ConfigfsSnapshot.File) snapshot.get(ROOT + "/subsystems/nqn.x/attr_model").orElseThrow()).content());
    assertEquals("", ((ConfigfsSnapshot.File) snapshot.get(ROOT + "/subsystems/nqn.x/attr_empty").orElseThrow()).content());
    assertInstanceOf(ConfigfsSnapshot.Unreadable.class, snapshot.get(ROOT + "/subsystems/nqn.x/revalidate_size").orElseThrow());
  }

  @Test
  void directoriesListTheirOwnChildrenOnlyAndLinksKeepTheirTargets() {
    assertEquals(List.of("allowed_hosts", "attr_allow_any_host", "attr_empty", "attr_model", "revalidate_size"),
        snapshot.children(ROOT + "/subsystems/nqn.x"));
    assertEquals(List.of("ports", "subsystems"), snapshot.children(ROOT));
    assertEquals(List.of(), snapshot.children(ROOT + "/ports"));
    assertEquals(List.of(), snapshot.children(ROOT + "/hosts"), "an absent directory lists nothing");
    assertEquals("../../../hosts/nqn.h",
        ((ConfigfsSnapshot.Link) snapshot.get(ROOT + "/subsystems/nqn.x/allowed_hosts/nqn.h").orElseThrow()).target());
  }

  @Test
  void itCoversOnlyPathsUnderItsRoot() {
    assertTrue(snapshot.covers(ROOT + "/ports/1"));
    assertFalse(snapshot.covers("/sys/kernel/config/nvmet-other"));
    assertFalse(snapshot.covers("/sys/class/nvme/nvme0/state"));
  }
}
