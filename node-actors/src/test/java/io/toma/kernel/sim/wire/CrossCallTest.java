package io.toma.kernel.sim.wire;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import io.toma.kernel.DesiredState.ConnectTimeouts;
import io.toma.kernel.DesiredState.DmTableLine;
import io.toma.kernel.Kernel;
import io.toma.kernel.KernelException;
import io.toma.kernel.KernelOp;
import io.toma.kernel.Names;
import io.toma.kernel.sim.IoResult;
import io.toma.kernel.sim.SimCluster;
import io.toma.kernel.sim.SimHost;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * Two "processes" whose nodes are each other's targets (a converged cluster: n1's controller uses
 * a slice on n2 and n2's uses one on n1), writing at the same time: each side waits on the network
 * with its simulation lock released, so neither blocks the other's target.
 */
class CrossCallTest {
  private static final ConnectTimeouts FAST_FAIL = new ConnectTimeouts(5, 5, 1, Optional.of(0));
  private final Map<String, InetSocketAddress> served = new ConcurrentHashMap<>();
  private final List<AutoCloseable> closeables = new ArrayList<>();

  private record Side(SimCluster cluster, SimHost host) {}

  private Side side(String node, String address) throws Exception {
    SimCluster cluster = SimCluster.withRemoteFabric(clock -> {
      WireFabric wire = new WireFabric(clock, a -> served.get(a));
      closeables.add(wire);
      return wire;
    });
    cluster.addNode(node, address).addDisk("disk0", 1L << 30);
    WireTargetServer server =
        WireTargetServer.start(cluster.exports(), new InetSocketAddress(InetAddress.getLoopbackAddress(), 0));
    closeables.add(server);
    served.put(address, server.address());
    return new Side(cluster, cluster.hostOn(node, hostNqn(node)));
  }

  private static String hostNqn(String node) {
    return Names.NQN_PREFIX + "host:" + node;
  }

  private static void export(Kernel kernel, String address, String nqn, String uuid, String allowed)
      throws KernelException {
    kernel.apply(new KernelOp.HostCreate(allowed));
    kernel.apply(new KernelOp.DmCreate("toma-x-slice", List.of(new DmTableLine(0, 8192, "linear", "@disk:disk0 0"))));
    kernel.apply(new KernelOp.SubsystemCreate(nqn, Optional.empty(), Optional.empty()));
    kernel.apply(new KernelOp.SubsystemAllowHost(nqn, allowed));
    kernel.apply(new KernelOp.NamespaceCreate(nqn, 1, "@dm:toma-x-slice", uuid, 1));
    kernel.apply(new KernelOp.PortCreate(1, "tcp", "ipv4", address, 4420));
    kernel.apply(new KernelOp.PortLinkSubsystem(1, nqn));
  }

  @AfterEach
  void close() throws Exception {
    for (AutoCloseable c : closeables) {
      c.close();
    }
  }

  @Test
  void twoProcessesWritingToEachOthersTargetsAtOnceNeverDeadlock() throws Exception {
    Side one = side("n1", "10.78.0.1");
    Side two = side("n2", "10.78.0.2");
    String onOne = Names.NQN_PREFIX + "x-on-n1";
    String onTwo = Names.NQN_PREFIX + "x-on-n2";
    export(one.cluster().node("n1").kernel(), "10.78.0.1", onOne, "7d5b0a3e-0000-4000-8000-00000000c001", hostNqn("n2"));
    export(two.cluster().node("n2").kernel(), "10.78.0.2", onTwo, "7d5b0a3e-0000-4000-8000-00000000c002", hostNqn("n1"));
    one.host().connect(onTwo, "10.78.0.2", 4420, FAST_FAIL);
    two.host().connect(onOne, "10.78.0.1", 4420, FAST_FAIL);

    ExecutorService pool = Executors.newFixedThreadPool(4);
    try {
      List<Future<Integer>> writers = new ArrayList<>();
      for (Side side : List.of(one, two)) {
        String nqn = side == one ? onTwo : onOne;
        // Two writers per side: one holds the lock waiting while the other's target serves.
        for (int t = 0; t < 2; t++) {
          int thread = t;
          writers.add(pool.submit(() -> {
            int ok = 0;
            for (int i = 0; i < 200; i++) {
              long offset = (long) (thread * 200 + i) * 4096;
              if (side.host().write(nqn, offset, block(i)) instanceof IoResult.Ok) {
                ok++;
              }
            }
            return ok;
          }));
        }
      }
      for (Future<Integer> w : writers) {
        assertEquals(200, w.get(60, TimeUnit.SECONDS), "every write acknowledged, none stuck");
      }
    } finally {
      pool.shutdownNow();
    }
    IoResult back = one.host().read(onTwo, 199L * 4096, 4096);
    assertArrayEquals(block(199), ((IoResult.Ok) back).data());
  }

  private static byte[] block(int seed) {
    byte[] data = new byte[4096];
    Arrays.fill(data, (byte) seed);
    return data;
  }
}
