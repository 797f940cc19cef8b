package io.toma.kernel.sim;

import static io.toma.kernel.sim.VolumeStack.LEGS;
import static io.toma.kernel.sim.VolumeStack.VOLUME_NQN;
import static io.toma.kernel.sim.VolumeStack.legName;
import static io.toma.kernel.sim.VolumeStack.pattern;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.toma.kernel.DesiredState.AnaState;
import io.toma.kernel.KernelException;
import io.toma.kernel.KernelOp;
import io.toma.kernel.sim.VolumeStack.Slice;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.Test;

class WholeStackTest {

  static byte[] ok(IoResult result) {
    IoResult.Ok ok = assertInstanceOf(IoResult.Ok.class, result, () -> "expected Ok, got " + result);
    return ok.data();
  }

  /** Writes 1 MiB at offset 0 and 256 KiB near the end: both legs, several chunks each. */
  static void writePattern(SimHost host, long seed) {
    ok(host.write(VOLUME_NQN, 0, pattern(seed, 1 << 20)));
    ok(host.write(VOLUME_NQN, VolumeStack.VOLUME * 512 - (256 << 10), pattern(seed + 1, 256 << 10)));
  }

  static void assertPattern(SimHost host, long seed) {
    assertArrayEquals(pattern(seed, 1 << 20), ok(host.read(VOLUME_NQN, 0, 1 << 20)));
    assertArrayEquals(pattern(seed + 1, 256 << 10),
        ok(host.read(VOLUME_NQN, VolumeStack.VOLUME * 512 - (256 << 10), 256 << 10)));
  }

  @Test
  void aHostWritesAPatternThroughTheWholeStackAndReadsItBack() throws Exception {
    VolumeStack stack = VolumeStack.built(VolumeStack.FAST_FAIL);

    writePattern(stack.host, 42);

    assertPattern(stack.host, 42);
    assertEquals(Optional.of("/dev/nvme0n1"), stack.host.devicePath(VOLUME_NQN));
    assertEquals("0 24576 raid raid1 2 AA 24576/24576 idle 0 0 -", stack.status("c1", legName(0)));
    // The first chunk (64 KiB) of the volume lives at the start of leg 0, on both of its mirrors.
    byte[] firstChunk = java.util.Arrays.copyOf(pattern(42, 1 << 20), 64 << 10);
    for (Slice member : LEGS.get(0)) {
      long dataOffset = (member.index() * VolumeStack.SLICE + VolumeStack.META) * 512;
      assertArrayEquals(firstChunk,
          ok(stack.kernel(member.node()).readDevice("/dev/nullb0", dataOffset, 64 << 10)),
          "mirror on " + member);
    }
  }

  @Test
  void aFreshRaid1ResyncsOverSimulatedTimeBeforeItReportsInSync() throws Exception {
    VolumeStack stack = new VolumeStack(SimCluster.create(), VolumeStack.FAST_FAIL);
    for (Slice slice : LEGS.get(0)) {
      stack.exportSlice(slice, "c1");
      stack.attachMember("c1", slice);
    }
    stack.kernel("c1").apply(new KernelOp.DmCreate(legName(0), List.of(VolumeStack.raid1(LEGS.get(0), Optional.empty()))));

    assertEquals("0 24576 raid raid1 2 aa 0/24576 resync 0 0 -", stack.status("c1", legName(0)));
    stack.cluster.advance(Duration.ofMillis(100)); // 6.4 MiB of 12 MiB at 64 MiB/s
    assertTrue(stack.status("c1", legName(0)).matches("0 24576 raid raid1 2 aa 1[0-9]{4}/24576 resync 0 0 -"),
        stack.status("c1", legName(0)));
    stack.cluster.advance(Duration.ofMillis(100));
    assertEquals("0 24576 raid raid1 2 AA 24576/24576 idle 0 0 -", stack.status("c1", legName(0)));
  }

  @Test
  void whenOneLegMembersDiskDiesReadsAndWritesContinueAndTheMemberShowsDead() throws Exception {
    VolumeStack stack = VolumeStack.built(VolumeStack.FAST_FAIL);
    writePattern(stack.host, 1);

    stack.cluster.killDisk("d1", "disk0");

    assertPattern(stack.host, 1);
    writePattern(stack.host, 2);
    assertPattern(stack.host, 2);
    assertEquals("0 24576 raid raid1 2 DA 24576/24576 idle 0 0 -", stack.status("c1", legName(0)));
    assertEquals("0 24576 raid raid1 2 AA 24576/24576 idle 0 0 -", stack.status("c1", legName(1)));
    assertEquals(List.of(new io.toma.kernel.Kernel.BlockDeviceInfo("/dev/nullb0", 0, false)),
        stack.kernel("d1").blockDevices(List.of("/dev/nullb0")));
  }

  @Test
  void aReplacementMemberAddedWithRebuildResyncsThenTheOldSurvivorMayDieWithDataIntact() throws Exception {
    VolumeStack stack = VolumeStack.built(VolumeStack.FAST_FAIL);
    writePattern(stack.host, 7);
    stack.cluster.killDisk("d1", "disk0");
    writePattern(stack.host, 8); // written while degraded: only d2 holds it

    Slice replacement = new Slice("d3", 1);
    stack.exportSlice(replacement, "c1");
    stack.attachMember("c1", replacement);
    List<Slice> newMembers = List.of(replacement, LEGS.get(0).get(1));
    stack.kernel("c1").apply(new KernelOp.DmReload(legName(0), List.of(VolumeStack.raid1(newMembers, Optional.of(0)))));
    assertEquals("0 24576 raid raid1 2 DA 24576/24576 idle 0 0 -", stack.status("c1", legName(0)),
        "a reload takes effect only at resume");
    stack.kernel("c1").apply(new KernelOp.DmSuspend(legName(0), false));
    stack.kernel("c1").apply(new KernelOp.DmResume(legName(0)));

    assertEquals("0 24576 raid raid1 2 aA 0/24576 recover 0 0 -", stack.status("c1", legName(0)));
    stack.cluster.advance(Duration.ofMillis(50));
    assertTrue(stack.status("c1", legName(0)).matches("0 24576 raid raid1 2 aA [0-9]+/24576 recover 0 0 -"));
    assertPattern(stack.host, 8);
    stack.cluster.advance(Duration.ofSeconds(1));
    assertEquals("0 24576 raid raid1 2 AA 24576/24576 idle 0 0 -", stack.status("c1", legName(0)));
    assertTrue(stack.kernel("c1").read().dmDevices().get(legName(0)).table().get(0).args().contains("rebuild 0"),
        "the live table keeps rebuild 0, as the kernel prints it");

    stack.cluster.killDisk("d2", "disk0"); // the old survivor of leg 0 (and a member of leg 1)

    assertPattern(stack.host, 8);
    writePattern(stack.host, 9); // writes reach every member: the dead one is noticed
    assertPattern(stack.host, 9);
    assertEquals("0 24576 raid raid1 2 AD 24576/24576 idle 0 0 -", stack.status("c1", legName(0)));
    assertEquals("0 24576 raid raid1 2 DA 24576/24576 idle 0 0 -", stack.status("c1", legName(1)));
  }

  @Test
  void aNewDeviceInARaidSlotWithoutRebuildIsRefusedLikeTheKernel() throws Exception {
    VolumeStack stack = VolumeStack.built(VolumeStack.FAST_FAIL);
    stack.cluster.killDisk("d1", "disk0");
    Slice replacement = new Slice("d3", 1);
    stack.exportSlice(replacement, "c1");
    stack.attachMember("c1", replacement);

    KernelException refused = assertThrows(KernelException.class, () -> stack.kernel("c1").apply(new KernelOp.DmReload(
        legName(0), List.of(VolumeStack.raid1(List.of(replacement, LEGS.get(0).get(1)), Optional.empty())))));

    assertTrue(refused.getMessage().contains("Invalid argument"), refused.getMessage());
    assertTrue(refused.getMessage().contains("New device injected into existing raid set"), refused.getMessage());
  }

  @Test
  void aRaidTableWithAWrongParameterCountIsRefusedWithTheKernelsMessage() throws Exception {
    VolumeStack stack = new VolumeStack(SimCluster.create(), VolumeStack.FAST_FAIL);
    for (Slice slice : LEGS.get(0)) {
      stack.exportSlice(slice, "c1");
      stack.attachMember("c1", slice);
    }
    String members = " 2 @dm:" + VolumeStack.meta(LEGS.get(0).get(0)) + " @dm:" + VolumeStack.data(LEGS.get(0).get(0))
        + " @dm:" + VolumeStack.meta(LEGS.get(0).get(1)) + " @dm:" + VolumeStack.data(LEGS.get(0).get(1));

    KernelException refused = assertThrows(KernelException.class, () -> stack.kernel("c1").apply(new KernelOp.DmCreate(
        legName(0), List.of(new io.toma.kernel.DesiredState.DmTableLine(0, VolumeStack.DATA, "raid",
            "raid1 3 0 rebuild 0 region_size 1024" + members)))));

    assertEquals("device-mapper: create ioctl on " + legName(0)
        + " failed: Invalid argument (Cannot understand number of raid devices parameters)", refused.getMessage());
    KernelException oddPair = assertThrows(KernelException.class, () -> stack.kernel("c1").apply(new KernelOp.DmCreate(
        legName(0), List.of(new io.toma.kernel.DesiredState.DmTableLine(0, VolumeStack.DATA, "raid",
            "raid1 2 0 region_size" + members)))));
    assertTrue(oddPair.getMessage().endsWith("Invalid argument (Wrong number of raid parameters given)"),
        oddPair.getMessage());
    assertTrue(stack.kernel("c1").read().dmDevices().get(legName(0)) == null, "nothing half-created");
  }

  @Test
  void aHostNotOnTheAllowListIsRefusedAtConnect() throws Exception {
    VolumeStack stack = VolumeStack.built(VolumeStack.FAST_FAIL);
    SimHost stranger = stack.cluster.addHost("h2", "10.0.2.2", io.toma.kernel.Names.NQN_PREFIX + "stranger");

    KernelException refused = assertThrows(KernelException.class,
        () -> stranger.connect(VOLUME_NQN, "10.0.1.1", VolumeStack.VOLUME_PORT));

    assertEquals("Failed to write to /dev/nvme-fabrics: Input/output error", refused.getMessage());
    assertInstanceOf(IoResult.Error.class, stranger.read(VOLUME_NQN, 0, 4096));
  }

  @Test
  void theKernelRefusesRemovalInTheWrongOrderAndAcceptsTheRecipesOrder() throws Exception {
    VolumeStack stack = VolumeStack.built(VolumeStack.FAST_FAIL);
    var c1 = stack.kernel("c1");
    String vol = VolumeStack.volumeName();

    assertRefused("Device or resource busy", () -> c1.apply(new KernelOp.DmRemove(vol)));
    assertRefused("Device or resource busy", () -> c1.apply(new KernelOp.DmRemove(legName(0))));
    assertRefused("Directory not empty", () -> c1.apply(new KernelOp.PortRemove(VolumeStack.VOLUME_PORT)));
    assertRefused("Device or resource busy", () -> c1.apply(new KernelOp.SubsystemRemove(VOLUME_NQN)));
    assertRefused("Device or resource busy", () -> c1.apply(new KernelOp.HostRemove(VolumeStack.HOST_NQN)));

    stack.host.disconnect(VOLUME_NQN);
    c1.apply(new KernelOp.PortUnlinkSubsystem(VolumeStack.VOLUME_PORT, VOLUME_NQN));
    assertRefused("Directory not empty", () -> c1.apply(new KernelOp.PortRemove(VolumeStack.VOLUME_PORT)));
    c1.apply(new KernelOp.AnaGroupRemove(VolumeStack.VOLUME_PORT, VolumeStack.ANA_GROUP));
    c1.apply(new KernelOp.PortRemove(VolumeStack.VOLUME_PORT));
    assertRefused("Directory not empty", () -> c1.apply(new KernelOp.SubsystemRemove(VOLUME_NQN)));
    c1.apply(new KernelOp.NamespaceRemove(VOLUME_NQN, 1));
    c1.apply(new KernelOp.SubsystemDisallowHost(VOLUME_NQN, VolumeStack.HOST_NQN));
    c1.apply(new KernelOp.SubsystemRemove(VOLUME_NQN));
    c1.apply(new KernelOp.HostRemove(VolumeStack.HOST_NQN));
    c1.apply(new KernelOp.DmRemove(vol));
    for (int leg = 0; leg < LEGS.size(); leg++) {
      c1.apply(new KernelOp.DmRemove(legName(leg)));
      for (Slice slice : LEGS.get(leg)) {
        c1.apply(new KernelOp.DmRemove(VolumeStack.meta(slice)));
        c1.apply(new KernelOp.DmRemove(VolumeStack.data(slice)));
        c1.apply(new KernelOp.Disconnect(slice.nqn()));
      }
    }

    assertEquals(io.toma.kernel.KernelState.empty(), c1.read());
  }

  static void assertRefused(String words, org.junit.jupiter.api.function.Executable call) {
    KernelException refused = assertThrows(KernelException.class, call);
    assertTrue(refused.getMessage().contains(words), refused.getMessage());
  }

  @Test
  void aCutLinkFailsALegMemberAtOnceWithFastIoFailZero() throws Exception {
    VolumeStack stack = VolumeStack.built(VolumeStack.FAST_FAIL);
    writePattern(stack.host, 3);

    stack.cluster.cutLink("c1", "d1");

    writePattern(stack.host, 4); // completes at once: raid1 marks the member dead and carries on
    assertEquals("0 24576 raid raid1 2 DA 24576/24576 idle 0 0 -", stack.status("c1", legName(0)));
    assertTrue(stack.kernel("c1").read().controllers().stream()
        .anyMatch(c -> c.subsystemNqn().equals(LEGS.get(0).get(0).nqn()) && c.state().equals("connecting")));
    assertPattern(stack.host, 4);
  }

  @Test
  void withoutFastIoFailACutLinkHoldsWritesUntilCtrlLossThenTheMemberFails() throws Exception {
    VolumeStack stack = VolumeStack.built(VolumeStack.QUEUEING);
    writePattern(stack.host, 5);

    stack.cluster.cutLink("c1", "d1");

    assertInstanceOf(IoResult.Retry.class, stack.host.write(VOLUME_NQN, 0, pattern(6, 4096)));
    stack.cluster.advance(Duration.ofSeconds(4));
    assertInstanceOf(IoResult.Retry.class, stack.host.write(VOLUME_NQN, 0, pattern(6, 4096)));
    stack.cluster.advance(Duration.ofSeconds(1)); // ctrl-loss-tmo=5 expires: the controller is deleted
    ok(stack.host.write(VOLUME_NQN, 0, pattern(6, 4096)));
    assertEquals("0 24576 raid raid1 2 DA 24576/24576 idle 0 0 -", stack.status("c1", legName(0)));
    assertTrue(stack.kernel("c1").read().controllers().stream()
        .noneMatch(c -> c.subsystemNqn().equals(LEGS.get(0).get(0).nqn())));
  }

  @Test
  void aLinkHealedBeforeCtrlLossComesBackLiveAndNoMemberFails() throws Exception {
    VolumeStack stack = VolumeStack.built(VolumeStack.QUEUEING);
    writePattern(stack.host, 5);
    stack.cluster.cutLink("c1", "d1");
    assertInstanceOf(IoResult.Retry.class, stack.host.write(VOLUME_NQN, 0, pattern(6, 4096)));

    stack.cluster.advance(Duration.ofMillis(2500));
    stack.cluster.healLink("c1", "d1");
    stack.cluster.advance(Duration.ofSeconds(1)); // next reconnect attempt

    ok(stack.host.write(VOLUME_NQN, 0, pattern(6, 4096)));
    assertEquals("0 24576 raid raid1 2 AA 24576/24576 idle 0 0 -", stack.status("c1", legName(0)));
    assertTrue(stack.kernel("c1").read().controllers().stream().allMatch(c -> c.state().equals("live")));
  }

  @Test
  void anaFailoverToTheStandbyAfterFencingKeepsHostIoGoing() throws Exception {
    VolumeStack stack = VolumeStack.built(VolumeStack.FAST_FAIL);
    writePattern(stack.host, 11);
    assertEquals(Optional.of("nvme0"), stack.host.activePath(VOLUME_NQN));
    var c1 = stack.kernel("c1");
    var c2 = stack.kernel("c2");

    c1.apply(new KernelOp.AnaGroupSetState(VolumeStack.VOLUME_PORT, VolumeStack.ANA_GROUP, AnaState.CHANGE));
    assertInstanceOf(IoResult.Retry.class, stack.host.write(VOLUME_NQN, 0, pattern(12, 4096)),
        "during change the host requeues");

    // Fence c1 on every disk node (revoke, then unlink/relink to cut its controllers); allow c2.
    for (Slice slice : VolumeStack.allSlices()) {
      var disk = stack.kernel(slice.node());
      if (!disk.read().hosts().contains(VolumeStack.controllerNqn("c2"))) {
        disk.apply(new KernelOp.HostCreate(VolumeStack.controllerNqn("c2")));
      }
      disk.apply(new KernelOp.SubsystemDisallowHost(slice.nqn(), VolumeStack.controllerNqn("c1")));
      disk.apply(new KernelOp.SubsystemAllowHost(slice.nqn(), VolumeStack.controllerNqn("c2")));
      disk.apply(new KernelOp.PortUnlinkSubsystem(VolumeStack.DISK_PORT, slice.nqn()));
      disk.apply(new KernelOp.PortLinkSubsystem(VolumeStack.DISK_PORT, slice.nqn()));
    }
    // Promote c2: the real stack replaces the error placeholder, then ANA flips.
    stack.buildLegsAndStripe("c2");
    assertEquals("0 24576 raid raid1 2 AA 24576/24576 idle 0 0 -", stack.status("c2", legName(0)),
        "the superblocks say the members are in sync: no resync on the new controller");
    c2.apply(new KernelOp.DmReload(VolumeStack.volumeName(), List.of(VolumeStack.striped())));
    c2.apply(new KernelOp.DmSuspend(VolumeStack.volumeName(), false));
    c2.apply(new KernelOp.DmResume(VolumeStack.volumeName()));
    c2.apply(new KernelOp.AnaGroupSetState(VolumeStack.VOLUME_PORT, VolumeStack.ANA_GROUP, AnaState.OPTIMIZED));
    c1.apply(new KernelOp.AnaGroupSetState(VolumeStack.VOLUME_PORT, VolumeStack.ANA_GROUP, AnaState.INACCESSIBLE));

    assertEquals(Optional.of("nvme1"), stack.host.activePath(VOLUME_NQN));
    assertPattern(stack.host, 11);
    writePattern(stack.host, 13);
    assertPattern(stack.host, 13);
    assertTrue(c1.read().controllers().stream().allMatch(c -> c.state().equals("connecting")),
        "the fenced controller cannot reconnect to its legs");
  }

  @Test
  void aMemberBackWithinTheGraceWindowIsReAddedByAResumeAndResynced() throws Exception {
    VolumeStack stack = VolumeStack.built(VolumeStack.FAST_FAIL);
    stack.cluster.cutLink("c1", "d1");
    writePattern(stack.host, 14); // d1's member misses this write
    assertEquals("0 24576 raid raid1 2 DA 24576/24576 idle 0 0 -", stack.status("c1", legName(0)));

    stack.cluster.healLink("c1", "d1");
    stack.cluster.advance(Duration.ofSeconds(1)); // reconnects before ctrl-loss-tmo
    assertEquals("0 24576 raid raid1 2 DA 24576/24576 idle 0 0 -", stack.status("c1", legName(0)),
        "raid1 does not take a member back by itself");
    stack.kernel("c1").apply(new KernelOp.DmSuspend(legName(0), false));
    stack.kernel("c1").apply(new KernelOp.DmResume(legName(0)));

    assertEquals("0 24576 raid raid1 2 aA 0/24576 recover 0 0 -", stack.status("c1", legName(0)));
    stack.cluster.advance(Duration.ofSeconds(1));
    assertEquals("0 24576 raid raid1 2 AA 24576/24576 idle 0 0 -", stack.status("c1", legName(0)));
    Slice back = LEGS.get(0).get(0);
    long dataOffset = (back.index() * VolumeStack.SLICE + VolumeStack.META) * 512;
    assertArrayEquals(java.util.Arrays.copyOf(pattern(14, 1 << 20), 64 << 10),
        ok(stack.kernel(back.node()).readDevice("/dev/nullb0", dataOffset, 64 << 10)), "the missed write was resynced");
  }

  @Test
  void reloadingTheSameTableAfterAMemberCameBackResyncsItFromItsStaleSuperblock() throws Exception {
    VolumeStack stack = VolumeStack.built(VolumeStack.FAST_FAIL);
    stack.cluster.cutLink("c1", "d1");
    writePattern(stack.host, 15);
    stack.cluster.healLink("c1", "d1");
    stack.cluster.advance(Duration.ofSeconds(1));

    stack.kernel("c1").apply(new KernelOp.DmReload(legName(0), List.of(VolumeStack.raid1(LEGS.get(0), Optional.empty()))));
    stack.kernel("c1").apply(new KernelOp.DmSuspend(legName(0), false));
    stack.kernel("c1").apply(new KernelOp.DmResume(legName(0)));

    assertEquals("0 24576 raid raid1 2 aA 0/24576 recover 0 0 -", stack.status("c1", legName(0)));
    stack.cluster.advance(Duration.ofSeconds(1));
    assertEquals("0 24576 raid raid1 2 AA 24576/24576 idle 0 0 -", stack.status("c1", legName(0)));
    stack.cluster.killDisk("d2", "disk0");
    assertPattern(stack.host, 15);
  }
}
