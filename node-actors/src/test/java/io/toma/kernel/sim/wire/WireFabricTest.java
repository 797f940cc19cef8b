package io.toma.kernel.sim.wire;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.toma.kernel.DesiredState.AnaState;
import io.toma.kernel.DesiredState.ConnectTimeouts;
import io.toma.kernel.DesiredState.DmTableLine;
import io.toma.kernel.DesiredState.FabricConnection;
import io.toma.kernel.Kernel;
import io.toma.kernel.KernelException;
import io.toma.kernel.KernelOp;
import io.toma.kernel.Names;
import io.toma.kernel.sim.IoResult;
import io.toma.kernel.sim.SimCluster;
import io.toma.kernel.sim.SimHost;
import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.Arrays;
import java.util.List;
import java.util.Optional;
import java.util.function.Supplier;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * Two simulated kernels as two processes would hold them, each cluster with its own lock, joined
 * only by the wire protocol over loopback TCP: a host in one writes to a target in the other.
 */
class WireFabricTest {
  private static final String DISK_ADDRESS = "10.77.0.1";
  private static final String SUBSYSTEM = Names.NQN_PREFIX + "wire-slice";
  private static final String UUID = "7d5b0a3e-0000-4000-8000-00000000b001";
  private static final String HOST = Names.NQN_PREFIX + "host:c1";
  private static final ConnectTimeouts FAST_FAIL = new ConnectTimeouts(1, 5, 1, Optional.of(0));
  private static final long SECTORS = 8192;

  private final SimCluster target = SimCluster.create();
  private WireTargetServer server;
  private SimCluster hostSide;
  private WireFabric wire;

  private SimHost start() throws IOException, KernelException {
    target.addNode("d1", DISK_ADDRESS).addDisk("disk0", 1L << 30);
    server = WireTargetServer.start(target.exports(), new InetSocketAddress(InetAddress.getLoopbackAddress(), 0));
    InetSocketAddress served = server.address();
    hostSide = SimCluster.withRemoteFabric(clock -> {
      wire = new WireFabric(clock, address -> served);
      return wire;
    });
    Kernel disk = target.node("d1").kernel();
    disk.apply(new KernelOp.HostCreate(HOST));
    disk.apply(new KernelOp.DmCreate("toma-wire-slice", List.of(new DmTableLine(0, SECTORS, "linear", "@disk:disk0 0"))));
    disk.apply(new KernelOp.SubsystemCreate(SUBSYSTEM, Optional.empty(), Optional.empty()));
    disk.apply(new KernelOp.SubsystemAllowHost(SUBSYSTEM, HOST));
    disk.apply(new KernelOp.NamespaceCreate(SUBSYSTEM, 1, "@dm:toma-wire-slice", UUID, 1));
    disk.apply(new KernelOp.PortCreate(1, "tcp", "ipv4", DISK_ADDRESS, 4420));
    disk.apply(new KernelOp.PortLinkSubsystem(1, SUBSYSTEM));
    return hostSide.addHost("c1", "10.77.1.1", HOST);
  }

  @AfterEach
  void stop() {
    if (wire != null) {
      wire.close();
    }
    if (server != null) {
      server.close();
    }
  }

  private static byte[] block(int seed) {
    byte[] data = new byte[4096];
    Arrays.fill(data, (byte) seed);
    return data;
  }

  /** Polls with a generous timeout: the keep-alive runs on its own thread. */
  private static void await(String what, Supplier<Boolean> condition) throws InterruptedException {
    long deadline = System.nanoTime() + Duration.ofSeconds(20).toNanos();
    while (!condition.get()) {
      if (System.nanoTime() > deadline) {
        throw new AssertionError("not within 20 s: " + what);
      }
      Thread.sleep(20);
    }
  }

  @Test
  void aControllerInAnotherProcessWritesToADiskNodesExportAndReadsItBackOnTheDiskItself() throws Exception {
    SimHost host = start();
    host.connect(SUBSYSTEM, DISK_ADDRESS, 4420, FAST_FAIL);

    assertTrue(host.write(SUBSYSTEM, 8192, block(7)).isOk());

    IoResult read = host.read(SUBSYSTEM, 8192, 4096);
    assertArrayEquals(block(7), ((IoResult.Ok) read).data());
    IoResult onDisk = target.node("d1").kernel().readDevice("/dev/nullb0", 8192, 4096);
    assertArrayEquals(block(7), ((IoResult.Ok) onDisk).data(), "the bytes landed on the target's disk");
    assertTrue(host.activePath(SUBSYSTEM).isPresent(), "the path is live and optimized");
  }

  @Test
  void discoveryListsOnlyTheSubsystemsThatAllowTheAskingHost() throws Exception {
    start();

    assertEquals(List.of(new io.toma.kernel.sim.FabricExports.DiscoveryEntry(SUBSYSTEM, "tcp", DISK_ADDRESS, 4420)),
        WireDiscovery.discover(server.address(), DISK_ADDRESS, HOST, 2000));
    assertEquals(List.of(), WireDiscovery.discover(server.address(), DISK_ADDRESS, Names.NQN_PREFIX + "other", 2000));
  }

  @Test
  void aHostTheTargetDoesNotAllowIsRefusedAtConnectWithTheKernelsWords() throws Exception {
    SimHost host = start();
    target.node("d1").kernel().apply(new KernelOp.SubsystemDisallowHost(SUBSYSTEM, HOST));

    KernelException refused = assertThrows(KernelException.class, () -> host.connect(SUBSYSTEM, DISK_ADDRESS, 4420, FAST_FAIL));
    assertTrue(refused.getMessage().contains("Input/output error"), refused.getMessage());
  }

  @Test
  void revokingTheHostNqnAtTheTargetCutsTheOldControllersIoOnItsExistingConnection() throws Exception {
    SimHost host = start();
    host.connect(SUBSYSTEM, DISK_ADDRESS, 4420, FAST_FAIL);
    assertTrue(host.write(SUBSYSTEM, 0, block(1)).isOk());

    target.node("d1").kernel().apply(new KernelOp.SubsystemDisallowHost(SUBSYSTEM, HOST));

    IoResult fenced = host.write(SUBSYSTEM, 0, block(2));
    assertTrue(!fenced.isOk(), "a fenced controller's write is not acknowledged: " + fenced);
    IoResult onDisk = target.node("d1").kernel().readDevice("/dev/nullb0", 0, 4096);
    assertArrayEquals(block(1), ((IoResult.Ok) onDisk).data(), "the fenced write never reached the disk");
    hostSide.advance(Duration.ofSeconds(2)); // reconnect attempts: refused, the host NQN is gone
    assertInstanceOf(IoResult.Error.class, host.write(SUBSYSTEM, 0, block(3)),
        "with fast_io_fail_tmo=0 the path fails I/O instead of queueing");
    assertTrue(hostSide.node("c1").kernel().read().controllers().stream().allMatch(c -> c.state().equals("connecting")));
  }

  @Test
  void aTargetProcessThatDiesLosesTheAssociationAndTheControllerIsDeletedAfterCtrlLoss() throws Exception {
    SimHost host = start();
    host.connect(SUBSYSTEM, DISK_ADDRESS, 4420, FAST_FAIL);
    assertTrue(host.write(SUBSYSTEM, 0, block(1)).isOk());

    server.close(); // as kill -9 of the disk node's process: its sockets are reset

    await("the host side to notice the lost association", () -> {
      hostSide.advance(Duration.ZERO);
      return readControllers().stream().allMatch(c -> c.state().equals("connecting"));
    });
    assertInstanceOf(IoResult.Error.class, host.write(SUBSYSTEM, 0, block(2)));
    hostSide.advance(Duration.ofSeconds(6));
    assertEquals(List.of(), readControllers(), "deleted after ctrl_loss_tmo (5 s)");
  }

  @Test
  void anAnaChangeAtTheTargetReachesTheHostThroughKeepAlives() throws Exception {
    SimHost host = start();
    host.connect(SUBSYSTEM, DISK_ADDRESS, 4420, new ConnectTimeouts(5, 600, 1, Optional.empty()));
    target.node("d1").kernel().apply(new KernelOp.AnaGroupSetState(1, 1, AnaState.INACCESSIBLE));

    await("the host to see the path inaccessible", () -> host.activePath(SUBSYSTEM).isEmpty());
    assertInstanceOf(IoResult.Retry.class, host.write(SUBSYSTEM, 0, block(1)), "held, not failed");

    target.node("d1").kernel().apply(new KernelOp.AnaGroupSetState(1, 1, AnaState.OPTIMIZED));
    await("the host to see the path optimized again", () -> host.activePath(SUBSYSTEM).isPresent());
    assertTrue(host.write(SUBSYSTEM, 0, block(1)).isOk());
  }

  private List<io.toma.kernel.KernelState.ControllerState> readControllers() {
    try {
      return hostSide.node("c1").kernel().read().controllers();
    } catch (KernelException e) {
      throw new AssertionError(e);
    }
  }
}
