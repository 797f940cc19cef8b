package io.toma.volume;

import static org.junit.jupiter.api.Assertions.assertFalse;

import io.toma.kernel.DesiredState;
import java.util.List;

/** Assertions on what a node was last given. */
final class DesiredStateAssert {
  private DesiredStateAssert() {}

  static void allowListsExclude(List<DesiredState> applied, String hostNqn) {
    DesiredState last = applied.get(applied.size() - 1);
    for (DesiredState.NvmetSubsystem s : last.subsystems()) {
      assertFalse(s.allowedHosts().contains(hostNqn), s.nqn() + " still allows " + hostNqn);
    }
  }

  /** The args of the named dm device in the last state the node applied. */
  static String legTable(List<DesiredState> applied, String dmName) {
    DesiredState last = applied.get(applied.size() - 1);
    return last.dmDevices().stream().filter(d -> d.name().equals(dmName)).findFirst()
        .map(d -> d.table().get(0).args()).orElseThrow(() -> new AssertionError("no " + dmName + " in " + last));
  }
}
