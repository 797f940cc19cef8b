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
        .setting("status", "not measured: the harness pieces landed at 00:10 UTC on 2026-11-22, too late; see docs/benchmarks.md")
        .table(new Report.Table("what the benchmark still needs", List.of("piece", "state", "to do"),
            List.of(
                List.of("multi-process cluster on loopback, kill -9 (system-tests TomaCluster, TomaProcess, TestPostgres)",
                    "landed, as test sources of system-tests", "move to system-tests/src/main or a test-jar bench can use"),
                List.of("failover fence-first with persisted stages (VolumeRecord.FailoverStep)", "landed",
                    "expose the stage timestamps (repair view or events stream) for the detection/fencing/promotion split"),
                List.of("a host writing continuously across processes", "missing",
                    "the simulated kernels carry data only inside one process (SimWorld); needs a loopback block path"),
                List.of("Pekko's default failure detector as the reference", "configuration only",
                    "-D options through TomaProcess for a second cluster"))))
        .note("plan: 3 managers + storage nodes as processes; a host process writes a sequence number every 10 ms and"
            + " logs each acknowledgement; kill -9 the node holding the active controller, 20 times; stall = last ack"
            + " before the kill to first ack after; detection/fencing/promotion from the volume's persisted failover"
            + " stages; once with the tuned failure detector (toma-cluster.conf), once with Pekko's defaults.");
  }
}
