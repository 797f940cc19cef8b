package io.toma.kernel.sim;

import static io.toma.kernel.sim.VolumeStack.pattern;
import static io.toma.kernel.sim.WholeStackTest.ok;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.toma.kernel.DesiredState.DmTableLine;
import io.toma.kernel.KernelException;
import io.toma.kernel.KernelOp;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;

/** device-mapper on one node with local disks, no fabric. */
class DeviceMapperTest {
  private static final long TIB = 1L << 40;

  private static SimNode nodeWithDisks(SimCluster cluster, int disks, long size) {
    SimNode node = cluster.addNode("n1", "10.0.0.1");
    for (int i = 0; i < disks; i++) {
      node.addDisk("disk" + i, size);
    }
    return node;
  }

  @Test
  void dmsetupTableShowsDevicesAsMajorMinorAndStatusInTheKernelsFormat() throws Exception {
    SimNode node = nodeWithDisks(SimCluster.create(), 2, 1L << 30);
    var k = node.kernel();
    k.apply(new KernelOp.DmCreate("toma-a", List.of(new DmTableLine(0, 262144, "linear", "@disk:disk0 0"))));
    k.apply(new KernelOp.DmCreate("toma-b", List.of(new DmTableLine(0, 262144, "linear", "/dev/nullb1 2048"))));
    k.apply(new KernelOp.DmCreate("toma-s",
        List.of(new DmTableLine(0, 524288, "striped", "2 128 /dev/mapper/toma-a 0 @dm:toma-b 0"))));

    var state = k.read();

    assertEquals(List.of(new DmTableLine(0, 262144, "linear", "251:0 0")), state.dmDevices().get("toma-a").table());
    assertEquals(List.of(new DmTableLine(0, 262144, "linear", "251:1 2048")), state.dmDevices().get("toma-b").table());
    assertEquals(List.of(new DmTableLine(0, 524288, "striped", "2 128 253:0 0 253:1 0")),
        state.dmDevices().get("toma-s").table());
    assertEquals("0 262144 linear", state.dmDevices().get("toma-a").status());
    assertEquals("0 524288 striped 2 253:0 253:1 1 AA", state.dmDevices().get("toma-s").status());
  }

  @Test
  void aRaid1WithAMissingMemberWrittenAsDashesRunsDegradedAndRebuildsOntoADeviceGivenLater() throws Exception {
    // dm-raid accepts "- -" for a slot with neither metadata nor data device (kernel-recipes.md).
    SimCluster cluster = SimCluster.create();
    SimNode node = nodeWithDisks(cluster, 2, 1L << 30);
    var k = node.kernel();
    for (int m = 0; m < 2; m++) {
      k.apply(new KernelOp.DmCreate("toma-m" + m + "-meta", List.of(new DmTableLine(0, 8, "linear", "@disk:disk" + m + " 0"))));
      k.apply(new KernelOp.DmCreate("toma-m" + m + "-data", List.of(new DmTableLine(0, 2048, "linear", "@disk:disk" + m + " 8"))));
    }
    k.apply(new KernelOp.DmCreate("toma-leg", List.of(new DmTableLine(0, 2048, "raid",
        "raid1 3 0 region_size 1024 2 @dm:toma-m0-meta @dm:toma-m0-data - -"))));
    cluster.advance(Duration.ofMillis(100));
    ok(k.writeDevice("@dm:toma-leg", 0, pattern(9, 1 << 20)));

    assertEquals("0 2048 raid raid1 2 AD 2048/2048 idle 0 0 -", k.read().dmDevices().get("toma-leg").status());
    assertTrue(k.read().dmDevices().get("toma-leg").table().get(0).args().endsWith(" - -"),
        k.read().dmDevices().get("toma-leg").table().toString());

    k.apply(new KernelOp.DmReload("toma-leg", List.of(new DmTableLine(0, 2048, "raid",
        "raid1 5 0 rebuild 1 region_size 1024 2 @dm:toma-m0-meta @dm:toma-m0-data @dm:toma-m1-meta @dm:toma-m1-data"))));
    k.apply(new KernelOp.DmSuspend("toma-leg", false));
    k.apply(new KernelOp.DmResume("toma-leg"));
    cluster.advance(Duration.ofMillis(100));

    assertEquals("0 2048 raid raid1 2 AA 2048/2048 idle 0 0 -", k.read().dmDevices().get("toma-leg").status());
    assertArrayEquals(pattern(9, 1 << 20), ok(k.readDevice("@dm:toma-m1-data", 0, 1 << 20)));
  }

  /**
   * Simulation seed 1075 (default shapes): a replacement extent reused the place of another
   * array's old member, whose superblock was newer than the leg's own; taken as the freshest, it
   * overwrote the surviving copy. dm-raid rewrites the superblock of a device named in rebuild.
   */
  @Test
  void aMemberNamedInRebuildIsRecoveredEvenOverAnotherArraysNewerSuperblock() throws Exception {
    SimCluster cluster = SimCluster.create();
    SimNode node = nodeWithDisks(cluster, 2, 1L << 30);
    var k = node.kernel();
    for (int m = 0; m < 2; m++) {
      k.apply(new KernelOp.DmCreate("toma-m" + m + "-meta", List.of(new DmTableLine(0, 8, "linear", "@disk:disk" + m + " 0"))));
      k.apply(new KernelOp.DmCreate("toma-m" + m + "-data", List.of(new DmTableLine(0, 2048, "linear", "@disk:disk" + m + " 8"))));
    }
    // another array's member on disk1, degraded and reloaded a few times: its events run ahead
    String old = "raid1 3 0 region_size 1024 2 @dm:toma-m1-meta @dm:toma-m1-data - -";
    k.apply(new KernelOp.DmCreate("toma-old", List.of(new DmTableLine(0, 2048, "raid", old))));
    cluster.advance(Duration.ofMillis(100));
    ok(k.writeDevice("@dm:toma-old", 0, pattern(7, 1 << 20)));
    for (int i = 0; i < 3; i++) {
      k.apply(new KernelOp.DmReload("toma-old", List.of(new DmTableLine(0, 2048, "raid", old))));
      k.apply(new KernelOp.DmSuspend("toma-old", false));
      k.apply(new KernelOp.DmResume("toma-old"));
    }
    k.apply(new KernelOp.DmRemove("toma-old"));

    k.apply(new KernelOp.DmCreate("toma-leg", List.of(new DmTableLine(0, 2048, "raid",
        "raid1 3 0 region_size 1024 2 @dm:toma-m0-meta @dm:toma-m0-data - -"))));
    cluster.advance(Duration.ofMillis(100));
    ok(k.writeDevice("@dm:toma-leg", 0, pattern(9, 1 << 20)));
    k.apply(new KernelOp.DmReload("toma-leg", List.of(new DmTableLine(0, 2048, "raid",
        "raid1 5 0 rebuild 1 region_size 1024 2 @dm:toma-m0-meta @dm:toma-m0-data @dm:toma-m1-meta @dm:toma-m1-data"))));
    k.apply(new KernelOp.DmSuspend("toma-leg", false));
    k.apply(new KernelOp.DmResume("toma-leg"));
    cluster.advance(Duration.ofSeconds(1));

    assertArrayEquals(pattern(9, 1 << 20), ok(k.readDevice("@dm:toma-leg", 0, 1 << 20)), "the surviving copy won");
    assertArrayEquals(pattern(9, 1 << 20), ok(k.readDevice("@dm:toma-m1-data", 0, 1 << 20)), "the new member was rebuilt");
  }

  @Test
  void raid0StripesChunksAcrossItsLegs() throws Exception {
    SimNode node = nodeWithDisks(SimCluster.create(), 2, 1L << 30);
    var k = node.kernel();
    k.apply(new KernelOp.DmCreate("toma-s", List.of(new DmTableLine(0, 1024, "striped", "2 8 @disk:disk0 0 @disk:disk1 0"))));
    byte[] data = pattern(5, 16384); // four 4 KiB chunks

    ok(k.writeDevice("@dm:toma-s", 0, data));

    byte[] disk0 = ok(k.readDevice("/dev/nullb0", 0, 8192));
    byte[] disk1 = ok(k.readDevice("/dev/nullb1", 0, 8192));
    assertArrayEquals(java.util.Arrays.copyOfRange(data, 0, 4096), java.util.Arrays.copyOfRange(disk0, 0, 4096));
    assertArrayEquals(java.util.Arrays.copyOfRange(data, 4096, 8192), java.util.Arrays.copyOfRange(disk1, 0, 4096));
    assertArrayEquals(java.util.Arrays.copyOfRange(data, 8192, 12288), java.util.Arrays.copyOfRange(disk0, 4096, 8192));
    assertArrayEquals(data, ok(k.readDevice("/dev/mapper/toma-s", 0, 16384)));
  }

  @Test
  void aReloadedTableTakesEffectAtResumeAndASuspendedDeviceHoldsIo() throws Exception {
    SimNode node = nodeWithDisks(SimCluster.create(), 1, 1L << 30);
    var k = node.kernel();
    k.apply(new KernelOp.DmCreate("toma-l", List.of(new DmTableLine(0, 2048, "linear", "@disk:disk0 0"))));
    ok(k.writeDevice("@dm:toma-l", 0, pattern(1, 4096)));

    k.apply(new KernelOp.DmReload("toma-l", List.of(new DmTableLine(0, 2048, "error", ""))));
    ok(k.readDevice("@dm:toma-l", 0, 4096));
    k.apply(new KernelOp.DmSuspend("toma-l", true));
    assertTrue(k.read().dmDevices().get("toma-l").suspended());
    assertInstanceOf(IoResult.Retry.class, k.readDevice("@dm:toma-l", 0, 4096));
    k.apply(new KernelOp.DmResume("toma-l"));

    assertInstanceOf(IoResult.Error.class, k.readDevice("@dm:toma-l", 0, 4096));
    assertEquals("error", k.read().dmDevices().get("toma-l").table().get(0).target());
  }

  @Test
  void tablesThatTheKernelRefusesAreRefusedAndNothingIsCreated() throws Exception {
    SimNode node = nodeWithDisks(SimCluster.create(), 1, 1L << 20);
    var k = node.kernel();
    List<List<DmTableLine>> refused = List.of(
        List.of(new DmTableLine(0, 4096, "linear", "@disk:disk0 0")),          // beyond the 1 MiB disk
        List.of(new DmTableLine(0, 100, "linear", "/dev/nullb7 0")),           // no such device
        List.of(new DmTableLine(0, 100, "striped", "2 8 @disk:disk0 0 @disk:disk0 512")), // 100 % (2*8) != 0
        List.of(new DmTableLine(0, 100, "linear", "@disk:disk0")),             // argument count
        List.of(new DmTableLine(0, 100, "thin", "whatever")));                 // unknown target
    for (List<DmTableLine> table : refused) {
      KernelException e = assertThrows(KernelException.class, () -> k.apply(new KernelOp.DmCreate("toma-x", table)));
      assertTrue(e.getMessage().startsWith("device-mapper: create ioctl on toma-x failed: "), e.getMessage());
    }
    assertTrue(k.read().dmDevices().isEmpty());
  }

  @Test
  void aDeadDiskCannotBeMappedAnyMore() throws Exception {
    SimCluster cluster = SimCluster.create();
    nodeWithDisks(cluster, 1, 1L << 30);
    cluster.killDisk("n1", "disk0");

    KernelException e = assertThrows(KernelException.class, () -> cluster.node("n1").kernel()
        .apply(new KernelOp.DmCreate("toma-x", List.of(new DmTableLine(0, 100, "linear", "@disk:disk0 0")))));

    assertTrue(e.getMessage().contains("No such device or address"), e.getMessage());
  }

  @Test
  void aTebibyteMirrorCostsNoMemoryUntilWrittenAndResyncsOnlyWhatHoldsData() throws Exception {
    SimCluster cluster = SimCluster.create();
    SimNode node = nodeWithDisks(cluster, 2, TIB);
    var k = node.kernel();
    long dataSectors = TIB / 512 - 8192;
    for (int i = 0; i < 2; i++) {
      k.apply(new KernelOp.DmCreate("toma-m" + i, List.of(new DmTableLine(0, 8192, "linear", "@disk:disk" + i + " 0"))));
      k.apply(new KernelOp.DmCreate("toma-d" + i, List.of(new DmTableLine(0, dataSectors, "linear", "@disk:disk" + i + " 8192"))));
    }
    long far = dataSectors * 512 - 8192;
    ok(k.writeDevice("@dm:toma-d0", 0, pattern(1, 8192)));
    ok(k.writeDevice("@dm:toma-d0", far, pattern(2, 8192)));
    ok(k.writeDevice("@dm:toma-d1", 1L << 35, pattern(3, 4096))); // stale bytes on the blank member

    k.apply(new KernelOp.DmCreate("toma-r", List.of(new DmTableLine(0, dataSectors, "raid",
        "raid1 3 0 region_size 1024 2 @dm:toma-m0 @dm:toma-d0 @dm:toma-m1 @dm:toma-d1"))));
    assertTrue(k.read().dmDevices().get("toma-r").status().contains(" aa 0/" + dataSectors + " resync "));
    cluster.advance(Duration.ofHours(4)); // 1 TiB at 64 MiB/s takes 4.55 hours
    assertTrue(k.read().dmDevices().get("toma-r").status().contains(" resync "));
    cluster.advance(Duration.ofHours(1));

    assertEquals("0 " + dataSectors + " raid raid1 2 AA " + dataSectors + "/" + dataSectors + " idle 0 0 -",
        k.read().dmDevices().get("toma-r").status());
    assertArrayEquals(pattern(2, 8192), ok(k.readDevice("@dm:toma-d1", far, 8192)));
    assertArrayEquals(new byte[4096], ok(k.readDevice("@dm:toma-d1", 1L << 35, 4096)), "the copy is exact, zeros too");
    assertTrue(node.disk("disk1").pagesInMemory() < 16, "pages: " + node.disk("disk1").pagesInMemory());
  }
}
