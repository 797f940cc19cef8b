package io.toma.bench.failover;

import io.toma.bench.Mode;
import io.toma.bench.Report;
import java.util.List;

/**
 * Issue 9, benchmark 1: the I/O stall when the active controller's node is killed. It needs a
 * multi-process cluster that serves volumes (HTTP API wired to the topology), failover on node
 * loss, and a simulated host writing through the simulated kernels; until those have landed on
 * this branch it reports what is missing instead of a figure.
 */
public final class FailoverBench {
  private FailoverBench() {}

  public static Report run(Mode mode, String command) {
    return new Report("Failover stall after kill -9 of the active controller's node", command)
        .setting("status", "not measured on this branch: the pieces it drives have not landed")
        .table(new Report.Table("what the benchmark needs", List.of("piece", "branch", "state on this branch"),
            List.of(
                List.of("multi-process cluster on loopback, kill -9 of a member (system-tests harness)", "mp", "not merged"),
                List.of("server serving volumes: HTTP API wired to TopologyService, node agents with simulated kernels",
                    "demo", "not merged"),
                List.of("failover on node loss (fence, promote the standby, ANA optimized)", "wiring", "not merged"),
                List.of("simulated host writing continuously, with acknowledged-write log", "simulation", "not merged"))))
        .note("plan: 3 managers + storage nodes as processes; a host process writes a sequence number every 10 ms and"
            + " logs each acknowledgement; kill -9 the node holding the active controller, 20 times; stall = last ack"
            + " before the kill to first ack after; detection/fencing/promotion from the volume's persisted failover"
            + " stages; once with the tuned failure detector (toma-cluster.conf), once with Pekko's defaults.");
  }
}
