package io.toma.placement;

import io.toma.topology.DiskFacts;
import java.util.List;

/** The answer of a placement: a disk per slot, or a message saying which constraint failed. */
public sealed interface PlacementOutcome {

  record ChosenMember(MemberSlot slot, DiskFacts disk) {}

  record Chosen(List<ChosenMember> members) implements PlacementOutcome {
    public Chosen {
      members = List.copyOf(members);
    }
  }

  record Refused(String message) implements PlacementOutcome {}
}
