package io.toma.kernel.sim;

import static io.toma.kernel.sim.VolumeStack.pattern;
import static io.toma.kernel.sim.WholeStackTest.ok;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.toma.kernel.DesiredState;
import io.toma.kernel.DesiredState.DmDevice;
import io.toma.kernel.DesiredState.DmTableLine;
import io.toma.kernel.KernelException;
import io.toma.kernel.KernelOp;
import io.toma.kernel.reconcile.AppliedRecord;
import io.toma.kernel.reconcile.Reconciler;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * An extent released by a rebuild and granted again still holds the old array's dm-raid
 * superblock. A brand-new member's slice asks for its metadata area to be wiped, and the agent's
 * reconcile wipes it before the slice's first creation only: never when re-creating a slice it
 * made before (after a reboot the slice holds a live member's superblock and data).
 */
class FreshMemberWipeTest {
  static final long META = 8;
  static final long DATA = 2048;
  static final Map<String, String> DISKS = Map.of("disk0", "/dev/nullb0", "disk1", "/dev/nullb1");

  /** disk1's first extent once held a member of another array, degraded, written, then released. */
  private static SimNode nodeWithAReleasedExtent(SimCluster cluster) throws KernelException {
    SimNode node = cluster.addNode("n1", "10.0.0.1");
    node.addDisk("disk0", 1L << 30);
    node.addDisk("disk1", 1L << 30);
    var k = node.kernel();
    k.apply(new KernelOp.DmCreate("toma-old-meta", List.of(new DmTableLine(0, META, "linear", "@disk:disk1 0"))));
    k.apply(new KernelOp.DmCreate("toma-old-data", List.of(new DmTableLine(0, DATA, "linear", "@disk:disk1 " + META))));
    k.apply(new KernelOp.DmCreate("toma-old", List.of(new DmTableLine(0, DATA, "raid",
        "raid1 3 0 region_size 1024 2 @dm:toma-old-meta @dm:toma-old-data - -"))));
    cluster.advance(Duration.ofMillis(100));
    ok(k.writeDevice("@dm:toma-old", 0, pattern(3, 1 << 20)));
    k.apply(new KernelOp.DmRemove("toma-old"));
    k.apply(new KernelOp.DmRemove("toma-old-data"));
    k.apply(new KernelOp.DmRemove("toma-old-meta"));
    return node;
  }

  /** A new volume's leg over slices of both disks, as a controller on the same node would hold. */
  private static DesiredState newVolume(long wipe) {
    return new DesiredState("vol-new", 1, List.of(
        new DmDevice("toma-n0-slice", List.of(new DmTableLine(0, META + DATA, "linear", "@disk:disk0 0")), wipe),
        new DmDevice("toma-n1-slice", List.of(new DmTableLine(0, META + DATA, "linear", "@disk:disk1 0")), wipe),
        new DmDevice("toma-n0-meta", List.of(new DmTableLine(0, META, "linear", "@dm:toma-n0-slice 0"))),
        new DmDevice("toma-n0-data", List.of(new DmTableLine(0, DATA, "linear", "@dm:toma-n0-slice " + META))),
        new DmDevice("toma-n1-meta", List.of(new DmTableLine(0, META, "linear", "@dm:toma-n1-slice 0"))),
        new DmDevice("toma-n1-data", List.of(new DmTableLine(0, DATA, "linear", "@dm:toma-n1-slice " + META))),
        new DmDevice("toma-n-leg", List.of(new DmTableLine(0, DATA, "raid",
            "raid1 3 0 region_size 1024 2 @dm:toma-n0-meta @dm:toma-n0-data @dm:toma-n1-meta @dm:toma-n1-data")))),
        List.of(), List.of(), List.of());
  }

  private static AppliedRecord apply(SimNode node, List<KernelOp> ops) throws KernelException {
    AppliedRecord record = AppliedRecord.empty();
    for (KernelOp op : ops) {
      node.kernel().apply(op);
      record = record.after(op);
    }
    return record;
  }

  @Test
  void aReleasedExtentGrantedToANewVolumeIsWipedSoItsRaid1BuildsAndKeepsTheHostsData() throws Exception {
    SimCluster cluster = SimCluster.create();
    SimNode node = nodeWithAReleasedExtent(cluster);
    var k = node.kernel();

    List<KernelOp> ops = Reconciler.diff(Map.of("vol-new", newVolume(META)), k.read(), DISKS, AppliedRecord.empty());
    int wipe = ops.indexOf(new KernelOp.ZeroSectors("@disk:disk1", 0, META));
    assertTrue(wipe >= 0, ops.toString());
    assertTrue(ops.get(wipe + 1) instanceof KernelOp.DmCreate c && c.name().equals("toma-n1-slice"),
        "the wipe comes right before the slice is created: " + ops);
    apply(node, ops);
    cluster.advance(Duration.ofSeconds(1));

    assertEquals("0 2048 raid raid1 2 AA 2048/2048 idle 0 0 -", k.read().dmDevices().get("toma-n-leg").status());
    ok(k.writeDevice("@dm:toma-n-leg", 0, pattern(11, 1 << 20)));
    assertArrayEquals(pattern(11, 1 << 20), ok(k.readDevice("@dm:toma-n-leg", 0, 1 << 20)));
    assertArrayEquals(pattern(11, 1 << 20), ok(k.readDevice("@dm:toma-n1-data", 0, 1 << 20)),
        "the new member holds the new data, not the old array's");
  }

  @Test
  void withoutTheWipeTheOldSuperblockMakesTheNewArrayFailAsDmRaidWould() throws Exception {
    SimNode node = nodeWithAReleasedExtent(SimCluster.create());
    List<KernelOp> ops = Reconciler.diff(Map.of("vol-new", newVolume(0)), node.kernel().read(), DISKS);

    assertTrue(ops.stream().noneMatch(KernelOp.ZeroSectors.class::isInstance), ops.toString());
    KernelException refused = assertThrows(KernelException.class, () -> apply(node, ops));
    assertTrue(refused.getMessage().contains("New device injected into existing raid set"), refused.getMessage());
  }

  @Test
  void aSliceRecreatedAfterARebootIsNeverWipedAndTheMemberReassemblesWithItsData() throws Exception {
    SimCluster cluster = SimCluster.create();
    SimNode node = nodeWithAReleasedExtent(cluster);
    var k = node.kernel();
    AppliedRecord record = apply(node, Reconciler.diff(Map.of("vol-new", newVolume(META)), k.read(), DISKS));
    cluster.advance(Duration.ofSeconds(1));
    ok(k.writeDevice("@dm:toma-n-leg", 0, pattern(13, 1 << 20)));

    cluster.crash("n1");
    cluster.restart("n1");
    List<KernelOp> again = Reconciler.diff(Map.of("vol-new", newVolume(META)), k.read(), DISKS, record);

    assertTrue(again.stream().anyMatch(op -> op instanceof KernelOp.DmCreate c && c.name().equals("toma-n1-slice")),
        "the reboot lost the slice: " + again);
    assertTrue(again.stream().noneMatch(KernelOp.ZeroSectors.class::isInstance), again.toString());
    for (KernelOp op : again) {
      k.apply(op);
    }
    cluster.advance(Duration.ofSeconds(1));
    assertEquals("0 2048 raid raid1 2 AA 2048/2048 idle 0 0 -", k.read().dmDevices().get("toma-n-leg").status());
    assertArrayEquals(pattern(13, 1 << 20), ok(k.readDevice("@dm:toma-n-leg", 0, 1 << 20)));
  }
}
