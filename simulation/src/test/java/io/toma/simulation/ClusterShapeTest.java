package io.toma.simulation;

import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Random;
import org.junit.jupiter.api.Test;

class ClusterShapeTest {

  @Test
  void randomClustersStayWithinTheIssuesShapeAndNoRackHoldsHalfTheMembers() {
    for (long seed = 0; seed < 500; seed++) {
      ClusterShape shape = ClusterShape.random(new Random(seed), Options.defaults());
      int nodes = shape.nodes().size();
      assertTrue(nodes >= 4 && nodes <= 10, "nodes " + nodes);
      assertTrue(shape.racks().size() >= 2, "racks " + shape.racks());
      assertTrue(shape.count(ClusterShape.NodeSpec::disk) >= 3, "disk nodes in " + shape.describe());
      assertTrue(shape.count(ClusterShape.NodeSpec::controller) >= 2, "controllers in " + shape.describe());
      for (String rack : shape.racks()) {
        assertTrue(2 * shape.nodesInRack(rack).size() < nodes + 1, "rack " + rack + " of " + shape.describe());
      }
      assertTrue(shape.disks().stream().allMatch(d -> d.sizeBytes() == ClusterShape.TIB
          || d.sizeBytes() == 2 * ClusterShape.TIB || d.sizeBytes() == 4 * ClusterShape.TIB));
    }
  }
}
