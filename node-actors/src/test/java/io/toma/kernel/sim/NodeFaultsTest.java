package io.toma.kernel.sim;

import static io.toma.kernel.sim.VolumeStack.LEGS;
import static io.toma.kernel.sim.VolumeStack.VOLUME_NQN;
import static io.toma.kernel.sim.VolumeStack.legName;
import static io.toma.kernel.sim.VolumeStack.pattern;
import static io.toma.kernel.sim.WholeStackTest.assertPattern;
import static io.toma.kernel.sim.WholeStackTest.ok;
import static io.toma.kernel.sim.WholeStackTest.writePattern;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.toma.kernel.DesiredState.AnaState;
import io.toma.kernel.KernelException;
import io.toma.kernel.KernelOp;
import io.toma.kernel.KernelState;
import io.toma.kernel.sim.VolumeStack.Slice;
import java.time.Duration;
import java.util.Optional;
import org.junit.jupiter.api.Test;

class NodeFaultsTest {

  private static SimKernel simKernel(VolumeStack stack, String node) {
    return stack.kernel(node);
  }

  @Test
  void aDiskNodeRestartDropsItsKernelObjectsButKeepsTheDataOnItsDisks() throws Exception {
    VolumeStack stack = VolumeStack.built(VolumeStack.FAST_FAIL);
    writePattern(stack.host, 21);
    byte[] before = ok(simKernel(stack, "d1").readDevice("/dev/nullb0", 0, 4 << 20));

    stack.cluster.restart("d1");

    assertEquals(KernelState.empty(), stack.kernel("d1").read());
    assertArrayEquals(before, ok(simKernel(stack, "d1").readDevice("/dev/nullb0", 0, 4 << 20)));
    assertTrue(stack.kernel("c1").read().controllers().stream()
        .anyMatch(c -> c.subsystemNqn().equals(LEGS.get(0).get(0).nqn()) && c.state().equals("connecting")));

    stack.exportSlice(LEGS.get(0).get(0), "c1"); // the agent re-applies its desired state
    stack.cluster.advance(Duration.ofSeconds(1));

    assertTrue(stack.kernel("c1").read().controllers().stream().allMatch(c -> c.state().equals("live")));
    assertPattern(stack.host, 21);
    assertEquals("0 24576 raid raid1 2 AA 24576/24576 idle 0 0 -", stack.status("c1", legName(0)));
  }

  @Test
  void aRestartedControllerReassemblesItsRaidFromTheSuperblocksWithoutAResync() throws Exception {
    VolumeStack stack = VolumeStack.built(VolumeStack.FAST_FAIL);
    writePattern(stack.host, 22);

    stack.cluster.restart("c1");

    assertInstanceOf(IoResult.Retry.class, stack.host.read(VOLUME_NQN, 0, 4096),
        "the host queues while its path reconnects");
    stack.buildController("c1", 1, 99, AnaState.OPTIMIZED);
    assertEquals("0 24576 raid raid1 2 AA 24576/24576 idle 0 0 -", stack.status("c1", legName(0)));
    stack.cluster.advance(Duration.ofSeconds(1));
    assertPattern(stack.host, 22);
  }

  @Test
  void aCrashedNodesKernelStopsAnsweringAndItsTargetsBecomeUnreachable() throws Exception {
    VolumeStack stack = VolumeStack.built(VolumeStack.QUEUEING);
    writePattern(stack.host, 23);

    stack.cluster.crash("c1");

    assertThrows(KernelException.class, () -> stack.kernel("c1").read());
    assertThrows(KernelException.class, () -> stack.kernel("c1").apply(new KernelOp.HostCreate("nqn.x")));
    assertThrows(KernelException.class, () -> stack.kernel("c1").blockDevices(java.util.List.of("/dev/nullb0")));
    assertTrue(stack.kernel("h1").read().controllers().stream()
        .anyMatch(c -> c.address().equals("10.0.1.1") && c.state().equals("connecting")));
    assertInstanceOf(IoResult.Retry.class, stack.host.write(VOLUME_NQN, 0, pattern(1, 4096)));
  }

  @Test
  void aOneWayCutBreaksTheAssociationBecauseTcpNeedsBothDirections() throws Exception {
    VolumeStack stack = VolumeStack.built(VolumeStack.FAST_FAIL);

    stack.cluster.cutLinkOneWay("d1", "c1");

    assertTrue(stack.kernel("c1").read().controllers().stream()
        .anyMatch(c -> c.subsystemNqn().equals(LEGS.get(0).get(0).nqn()) && c.state().equals("connecting")));
    assertTrue(stack.cluster.fabric().canReach("c1", "d1"));
    assertTrue(!stack.cluster.fabric().canReach("d1", "c1"));
  }

  @Test
  void aSlowDiskAddsLatencyToTheIoThatReachesIt() throws Exception {
    VolumeStack stack = VolumeStack.built(VolumeStack.FAST_FAIL);

    stack.cluster.slowDisk("d1", "disk0", Duration.ofMillis(40));

    IoResult.Ok write = assertInstanceOf(IoResult.Ok.class, stack.host.write(VOLUME_NQN, 0, pattern(2, 4096)));
    assertEquals(Duration.ofMillis(40), write.latency(), "a raid1 write waits for its slowest member");
    stack.cluster.slowDisk("d1", "disk0", Duration.ZERO);
    IoResult.Ok again = assertInstanceOf(IoResult.Ok.class, stack.host.write(VOLUME_NQN, 0, pattern(2, 4096)));
    assertEquals(Duration.ZERO, again.latency());
  }

  @Test
  void controllersOfOneSubsystemWithTheSameCntlidAreRefusedByTheHost() throws Exception {
    VolumeStack stack = new VolumeStack(SimCluster.create(), VolumeStack.FAST_FAIL);
    for (String controller : java.util.List.of("c1", "c2")) {
      var k = stack.kernel(controller);
      k.apply(new KernelOp.DmCreate(VolumeStack.volumeName(),
          java.util.List.of(new io.toma.kernel.DesiredState.DmTableLine(0, 2048, "error", ""))));
      k.apply(new KernelOp.HostCreate(VolumeStack.HOST_NQN));
      k.apply(new KernelOp.SubsystemCreate(VOLUME_NQN, Optional.empty(), Optional.empty()));
      k.apply(new KernelOp.SubsystemAllowHost(VOLUME_NQN, VolumeStack.HOST_NQN));
      k.apply(new KernelOp.NamespaceCreate(VOLUME_NQN, 1, "@dm:" + VolumeStack.volumeName(), VolumeStack.VOLUME_UUID, 1));
      k.apply(new KernelOp.PortCreate(4430, "tcp", "ipv4", stack.cluster.node(controller).fabricAddress(), 4430));
      k.apply(new KernelOp.PortLinkSubsystem(4430, VOLUME_NQN));
    }
    stack.host.connect(VOLUME_NQN, "10.0.1.1", 4430);

    KernelException refused = assertThrows(KernelException.class, () -> stack.host.connect(VOLUME_NQN, "10.0.1.2", 4430));

    assertTrue(refused.getMessage().contains("Duplicate cntlid 1"), refused.getMessage());
  }

  @Test
  void aRaid1WhoseOnlyInSyncMemberDiesDuringRecoveryFailsIo() throws Exception {
    VolumeStack stack = VolumeStack.built(VolumeStack.FAST_FAIL);
    stack.cluster.killDisk("d1", "disk0");
    writePattern(stack.host, 31);
    Slice replacement = new Slice("d3", 1);
    stack.exportSlice(replacement, "c1");
    stack.attachMember("c1", replacement);
    stack.kernel("c1").apply(new KernelOp.DmReload(legName(0),
        java.util.List.of(VolumeStack.raid1(java.util.List.of(replacement, LEGS.get(0).get(1)), Optional.of(0)))));
    stack.kernel("c1").apply(new KernelOp.DmResume(legName(0)));

    stack.cluster.killDisk("d2", "disk0");

    assertInstanceOf(IoResult.Error.class, stack.host.read(VOLUME_NQN, 0, 4096));
    assertTrue(stack.status("c1", legName(0)).startsWith("0 24576 raid raid1 2 aD "), stack.status("c1", legName(0)));
  }

  @Test
  void aNamespaceRemovedUnderAConnectedControllerFailsItsIoInsteadOfHanging() throws Exception {
    VolumeStack stack = VolumeStack.built(VolumeStack.QUEUEING);
    Slice member = LEGS.get(0).get(0);

    stack.kernel(member.node()).apply(new KernelOp.NamespaceRemove(member.nqn(), 1));

    ok(stack.host.write(VOLUME_NQN, 0, pattern(3, 4096)));
    assertEquals("0 24576 raid raid1 2 DA 24576/24576 idle 0 0 -", stack.status("c1", legName(0)));
  }

  @Test
  void aNameThatCannotBeAConfigfsDirectoryIsRefusedBeforeAnythingChanges() throws Exception {
    VolumeStack stack = new VolumeStack(SimCluster.create(), VolumeStack.FAST_FAIL);

    assertThrows(KernelException.class, () -> stack.kernel("c1").apply(new KernelOp.HostCreate("../etc")));
    assertThrows(KernelException.class, () -> stack.kernel("c1").apply(new KernelOp.DmRemove("a b")));

    assertEquals(KernelState.empty(), stack.kernel("c1").read());
  }

  @Test
  void controllerNumbersAreReusedLowestFirstSoDevicesMustBeFoundByUuid() throws Exception {
    VolumeStack stack = new VolumeStack(SimCluster.create(), VolumeStack.FAST_FAIL);
    Slice a = LEGS.get(0).get(0);
    Slice b = LEGS.get(0).get(1);
    Slice c = LEGS.get(1).get(1);
    for (Slice slice : java.util.List.of(a, b, c)) {
      stack.exportSlice(slice, "c1");
    }
    stack.attachMember("c1", a);
    stack.attachMember("c1", b);
    stack.kernel("c1").apply(new KernelOp.DmRemove(VolumeStack.meta(a)));
    stack.kernel("c1").apply(new KernelOp.DmRemove(VolumeStack.data(a)));
    stack.kernel("c1").apply(new KernelOp.Disconnect(a.nqn()));

    stack.attachMember("c1", c);

    var controllers = stack.kernel("c1").read().controllers();
    assertEquals(java.util.List.of("nvme0", "nvme1"), controllers.stream().map(x -> x.device()).toList());
    assertEquals(c.nqn(), controllers.get(0).subsystemNqn());
    assertEquals(java.util.Map.of(c.uuid(), "/dev/nvme0n1"), controllers.get(0).namespaceDevicesByUuid());
  }
}
