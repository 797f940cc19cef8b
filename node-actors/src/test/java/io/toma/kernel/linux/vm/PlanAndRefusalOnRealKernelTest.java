package io.toma.kernel.linux.vm;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.toma.kernel.DesiredState;
import io.toma.kernel.DesiredState.DmDevice;
import io.toma.kernel.DesiredState.DmTableLine;
import io.toma.kernel.DmRaidStatus;
import io.toma.kernel.KernelOp;
import io.toma.kernel.linux.vm.VolumeRecipe.Controller;
import io.toma.kernel.linux.vm.VolumeRecipe.DiskNode;
import io.toma.kernel.linux.vm.VolumeRecipe.Member;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import org.junit.jupiter.api.Test;

/**
 * The dry-run plan is what the agent does: the shell script {@code ShellPlan} renders from the
 * reconciler's operations, run with {@code sh} in the VM, builds a disk node's exports and a
 * controller's mirror (NVMe-oF legs connected through /dev/nvme-fabrics with fast_io_fail, raid1
 * with metadata, the ANA export), after which LinuxKernel reads the kernel back and the reconciler
 * finds nothing left to do. And a recipe broken on purpose fails with the kernel's own words.
 * One kernel plays both nodes here, over 127.0.0.1.
 */
@RealKernel(disks = 2, diskSizeMb = 64)
class PlanAndRefusalOnRealKernelTest {

  private static final String LOCAL = "127.0.0.1";
  private static final String NQN = "nqn.2026-11.io.toma:";

  @Test
  void theShellPlanBuildsAMirroredVolumeThatTheBackendThenFindsConverged(QemuVm vm) throws Exception {
    DiskNode d1 = new DiskNode("d1", "d1", LOCAL, 1, 4420);
    DiskNode d2 = new DiskNode("d2", "d2", LOCAL, 2, 4421);
    Controller c1 = new Controller("c1", true, LOCAL, NQN + "host:c1", 4430, 2, 1, 999);
    AppHost host = new AppHost(vm, "nqn.2014-08.org.example:plan-host");
    VolumeRecipe volume = new VolumeRecipe("p1", 1, 1, 16L * 1024 * 1024,
        List.of(new Member(0, 0, d1, 0, false), new Member(0, 1, d2, 0, false)),
        List.of(c1), List.of(host.hostNqn()), "8a2f5c11-3b7d-4e09-a6c4-1d2e3f405162");
    ReconcilingNode node = new ReconcilingNode("plan-node", vm, Map.of("d1", "/dev/nullb0", "d2", "/dev/nullb1"));

    // The disk side first: a controller can only connect to exports that exist.
    Map<String, DesiredState> held = new TreeMap<>(volume.diskNodes(List.of(d1, d2)));
    node.runPlan(held);
    assertEquals(List.of(), node.diff(held), "after the disk node's plan, the backend still sees work");

    held.put("c1.p1", volume.controller("c1"));
    List<KernelOp> ops = node.runPlan(held).ops();
    assertTrue(ops.stream().anyMatch(op -> op instanceof KernelOp.Connect c && c.connection().timeouts().fastIoFail().isPresent()),
        "the plan had no fail-fast leg connection: " + ops);
    assertEquals(List.of(), node.diff(held), "after the controller's plan, the backend still sees work");

    DmRaidStatus leg = awaitInSync(vm, volume.legDm(0));
    System.out.printf("plan: leg in sync: %s %d/%d %s%n", leg.health(), leg.syncedSectors(), leg.totalSectors(), leg.syncAction());
    assertEquals("AA", leg.health());

    assertEquals(0, host.connect(LOCAL, c1.serviceId(), volume.volumeNqn()).exit());
    assertEquals("live optimized", host.awaitPath(volume.volumeNqn(), LOCAL, c1.serviceId(), "live optimized"::equals,
        Duration.ofSeconds(30)));
    String device = host.namespaceDevice(volume.namespaceUuid());
    VmData data = new VmData(vm);
    String written = data.writeRandom(device, 2, 8);
    String viaHost = data.md5(device, 2, 8);
    String member0 = data.md5("/dev/mapper/" + volume.dataDm(volume.members().get(0)), 2, 8);
    String member1 = data.md5("/dev/mapper/" + volume.dataDm(volume.members().get(1)), 2, 8);
    System.out.printf("plan checksums: written %s, via the host %s, member 0 %s, member 1 %s%n", written, viaHost, member0, member1);
    assertEquals(written, viaHost);
    assertEquals(written, member0);
    assertEquals(written, member1);

    host.disconnect(volume.volumeNqn());
    node.runPlan(Map.of());
    assertEquals("", leftovers(vm), "the plan of an empty node left Toma objects behind");
  }

  @Test
  void aRaid1TableWithTheWrongParameterCountFailsWithTheKernelsError(QemuVm vm) {
    ReconcilingNode node = new ReconcilingNode("broken-node", vm, Map.of("d1", "/dev/nullb0", "d2", "/dev/nullb1"));
    // "raid1 2 0 region_size 1024": three parameters follow, the count says two.
    DesiredState broken = new DesiredState("broken", 1, List.of(
        slice("toma-broken-a-meta", "d1", 0, 8192), slice("toma-broken-a-data", "d1", 8192, 16384),
        slice("toma-broken-b-meta", "d2", 0, 8192), slice("toma-broken-b-data", "d2", 8192, 16384),
        new DmDevice("toma-broken", List.of(new DmTableLine(0, 16384, "raid",
            "raid1 2 0 region_size 1024 2 @dm:toma-broken-a-meta @dm:toma-broken-a-data @dm:toma-broken-b-meta @dm:toma-broken-b-data")))),
        List.of(), List.of(), List.of());

    AssertionError failure = assertThrows(AssertionError.class, () -> node.reconcile(Map.of("broken", broken)));
    System.out.println("the broken recipe failed as it must:\n" + failure.getMessage());
    assertTrue(failure.getMessage().contains("DmCreate[name=toma-broken,"), failure.getMessage());
    assertTrue(failure.getMessage().contains("device-mapper: table: ") && failure.getMessage().contains("raid: "),
        "the kernel's own refusal is not in the message:\n" + failure.getMessage());

    node.reconcile(Map.of());
    assertEquals("", leftovers(vm));
  }

  private static DmDevice slice(String name, String disk, long offset, long length) {
    return new DmDevice(name, List.of(new DmTableLine(0, length, "linear", "@disk:" + disk + " " + offset)));
  }

  private static String leftovers(QemuVm vm) {
    return vm.run("""
        dmsetup ls | grep toma- || true
        find /sys/kernel/config/nvmet | grep -e io.toma -e '/ports/.' || true
        ls /sys/class/nvme/ 2>/dev/null || true
        """).out();
  }

  private static DmRaidStatus awaitInSync(QemuVm vm, String dm) {
    Instant deadline = Instant.now().plus(Duration.ofSeconds(120));
    DmRaidStatus s = status(vm, dm);
    while (!(s.health().matches("A+") && s.syncAction().equals("idle")) && Instant.now().isBefore(deadline)) {
      vm.run("sleep 0.5");
      s = status(vm, dm);
    }
    return s;
  }

  private static DmRaidStatus status(QemuVm vm, String dm) {
    String line = vm.run("dmsetup status " + dm).out();
    return DmRaidStatus.tryParse(line).orElseThrow(() -> new AssertionError("not a raid status: " + line));
  }
}
