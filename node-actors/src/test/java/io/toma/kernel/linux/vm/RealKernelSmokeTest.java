package io.toma.kernel.linux.vm;

import static org.junit.jupiter.api.Assertions.assertAll;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/**
 * Proves the real-kernel harness: the VM boots with the storage modules and disks the scenarios
 * need, the channel keeps a script's exit status and output streams apart, and the recipes of
 * kernel-recipes.md work end to end (a dm-linear slice exported by nvmet, connected over TCP on
 * the guest's loopback, data read back by checksum, a host outside the allow-list refused).
 */
@RealKernel(disks = 2, diskSizeMb = 128)
class RealKernelSmokeTest {

  private static final String NVMET = "/sys/kernel/config/nvmet";
  private static final String NQN_PREFIX = "nqn.2026-11.io.toma:";

  @Test
  void theVmBootsWithTheNvmeofAndDeviceMapperModulesLoaded(QemuVm vm) {
    List<String> modules = vm.run("cut -d' ' -f1 /proc/modules").stdout().lines().toList();
    for (String module : List.of("nvmet", "nvmet_tcp", "nvme_tcp", "nvme_fabrics", "dm_mod", "dm_raid", "raid1", "null_blk")) {
      assertTrue(modules.contains(module), () -> module + " is not loaded; /proc/modules has " + modules);
    }
    System.out.printf("real-kernel VM: kernel %s booted in %d ms%n", vm.kernelVersion(), vm.bootTime().toMillis());
  }

  @Test
  void configfsIsMountedWithTheNvmetTargetTree(QemuVm vm) {
    assertTrue(vm.run("cat /proc/mounts").stdout().lines().anyMatch(l -> l.matches("\\S+ /sys/kernel/config configfs .*")),
        "configfs is not mounted on /sys/kernel/config");
    assertEquals(List.of("hosts", "ports", "subsystems"), vm.run("ls " + NVMET).stdout().lines().toList());
  }

  @Test
  void everyNullBlkDiskIsPresentWithTheRequestedSize(QemuVm vm) {
    int disks = vm.options().disks();
    long expectedBytes = vm.options().diskSizeMb() * 1024L * 1024L;
    for (int i = 0; i < disks; i++) {
      assertEquals(Long.toString(expectedBytes), vm.run("blockdev --getsize64 /dev/nullb" + i).out(), "size of nullb" + i);
    }
    assertEquals(disks, vm.run("ls -d /sys/block/nullb*").stdout().lines().count(), "number of null_blk disks");
  }

  @Test
  void dmsetupAndNvmeCliRunAgainstTheKernel(QemuVm vm) {
    String dm = vm.run("dmsetup version").stdout();
    assertTrue(dm.contains("Driver version:"), "dmsetup reached no device-mapper driver:\n" + dm);
    assertTrue(vm.run("nvme version").stdout().startsWith("nvme version 2."), "nvme-cli did not run");
  }

  @Test
  void theChannelReturnsExitStatusStdoutAndStderrSeparately(QemuVm vm) {
    VmResult result = vm.exec("printf 'line one\\nline two'; printf 'complaint' >&2; exit 7");
    assertAll(
        () -> assertEquals(7, result.exit()),
        () -> assertEquals("line one\nline two", result.stdout()),
        () -> assertEquals("complaint", result.stderr()));
  }

  @Test
  void argvCommandsReachTheVmWordForWord(QemuVm vm) {
    String tricky = "it's a \"quoted\" $HOME `x` \\ word";
    assertEquals(tricky + "\n", vm.exec(List.of("printf", "%s\\n", tricky)).stdout());
  }

  @Test
  void aMegabyteOfOutputArrivesWhole(QemuVm vm) {
    VmResult result = vm.run("head -c 1048576 /dev/zero | tr '\\0' x; head -c 1000 /dev/zero | tr '\\0' y >&2");
    assertEquals(1_048_576, result.stdout().length());
    assertTrue(result.stdout().chars().allMatch(c -> c == 'x'), "stdout altered in transit");
    assertEquals("y".repeat(1000), result.stderr());
  }

  @Test
  void twoScriptsRunConcurrently(QemuVm vm) throws Exception {
    vm.run("rm -f /tmp/concurrency-flag");
    // The first script can only finish once the second one has run beside it.
    CompletableFuture<VmResult> waiter = CompletableFuture.supplyAsync(() ->
        vm.exec("while [ ! -e /tmp/concurrency-flag ]; do sleep 0.1; done; echo saw the flag", Duration.ofSeconds(90)));
    vm.run("touch /tmp/concurrency-flag");
    assertEquals("saw the flag", waiter.get(120, TimeUnit.SECONDS).out());
  }

  @Test
  void aSliceExportedToAnAllowedHostReadsBackTheSamePattern(QemuVm vm) {
    Export export = new Export("smoke-data", 4420, "/dev/nullb0", 2048, 65536, "6f1b1c3e-5d0a-4c8e-9a57-0c6d2f8e9b01");
    String host = NQN_PREFIX + "smoke-host";
    try {
      vm.run(export.create(host));
      VmResult connect = vm.run(connectScript(export, host));
      assertTrue(connect.stdout().contains("\"device\""), "nvme connect did not report a device:\n" + connect);
      String device = vm.run(findNamespaceScript(export.uuid())).out();

      // 16 MiB of random data: written through NVMe-oF, read back through it and from the disk itself
      // (the slice starts 2048 sectors = 1 MiB into nullb0).
      VmData data = new VmData(vm);
      String written = data.writeRandom(device, 0, 16);
      String viaNvme = data.md5(device, 0, 16);
      String onDisk = data.md5("/dev/nullb0", 1, 16);
      System.out.printf("smoke checksums: written %s, read via NVMe-oF %s, on the disk %s%n", written, viaNvme, onDisk);
      assertTrue(written.matches("[0-9a-f]{32}"), "no checksum: " + written);
      assertNotEquals("d41d8cd98f00b204e9800998ecf8427e", written, "the pattern was empty");
      assertEquals(written, viaNvme, "read back through NVMe-oF differs from what was written");
      assertEquals(written, onDisk, "the slice on the disk differs from what was written");
    } finally {
      vm.exec("nvme disconnect -n " + export.nqn());
      vm.exec(export.remove(host));
    }
    assertNothingTomaIsLeft(vm);
  }

  @Test
  void aHostNotInTheAllowListIsRefusedAtConnect(QemuVm vm) {
    Export export = new Export("smoke-guarded", 4421, "/dev/nullb1", 0, 8192, "0b7d3a52-2f4e-4f61-8c1a-5e3c9d7a6b02");
    String allowed = NQN_PREFIX + "smoke-allowed";
    String intruder = NQN_PREFIX + "smoke-intruder";
    try {
      vm.run(export.create(allowed));
      VmResult refused = vm.exec(connectScript(export, intruder));
      assertNotEquals(0, refused.exit(), "a host outside allowed_hosts connected:\n" + refused);
      assertTrue(refused.stderr().contains("Input/output error"), "unexpected refusal:\n" + refused);
      assertTrue(vm.dmesg().contains("connect by host " + intruder + " for subsystem " + export.nqn() + " not allowed"),
          "nvmet did not log the refusal");
      assertEquals("", vm.run("ls /sys/class/nvme/ 2>/dev/null || true").out(), "a controller was left behind");
    } finally {
      vm.exec(export.remove(allowed));
    }
    assertNothingTomaIsLeft(vm);
  }

  @Test
  void aBrokenRecipeFailsWithTheKernelsOwnError(QemuVm vm) {
    // raid1 with a parameter count of 2 where 3 parameters follow ("0 region_size 1024").
    VmScriptFailedException failure = assertThrows(VmScriptFailedException.class, () -> vm.run(
        "dmsetup create toma-smoke-broken --table '0 8192 raid raid1 2 0 region_size 1024 2 - /dev/nullb0 - /dev/nullb1'"));
    assertNotEquals(0, failure.result().exit());
    assertTrue(failure.getMessage().contains("device-mapper: table:"),
        "the failure does not show the kernel's refusal:\n" + failure.getMessage());
    vm.exec("dmsetup remove toma-smoke-broken");
    assertNothingTomaIsLeft(vm);
  }

  @Test
  void fileCallsDriveConfigfsAndReportTheKernelsRefusal(QemuVm vm) {
    VmHostCalls host = new VmHostCalls(vm);
    String hostNqn = NQN_PREFIX + "calls-host";
    String subsystem = NVMET + "/subsystems/" + NQN_PREFIX + "calls";
    String allowed = subsystem + "/allowed_hosts/" + hostNqn;
    host.mkdir(NVMET + "/hosts/" + hostNqn);
    host.mkdir(subsystem);
    host.write(subsystem + "/attr_allow_any_host", "0");
    assertEquals("0\n", host.read(subsystem + "/attr_allow_any_host"));
    host.symlink(NVMET + "/hosts/" + hostNqn, allowed);
    assertEquals(List.of(hostNqn), host.list(subsystem + "/allowed_hosts"));
    assertTrue(host.exists(allowed));
    assertTrue(host.readLink(allowed).endsWith("/hosts/" + hostNqn), host.readLink(allowed));

    // The kernel refuses to drop a host some subsystem still allows (kernel-recipes: removal order).
    VmScriptFailedException busy = assertThrows(VmScriptFailedException.class, () -> host.rmdir(NVMET + "/hosts/" + hostNqn));
    assertTrue(busy.result().stderr().contains("Device or resource busy"), busy.result().toString());
    VmScriptFailedException refused = assertThrows(VmScriptFailedException.class,
        () -> host.write(subsystem + "/attr_allow_any_host", "maybe"));
    assertTrue(refused.result().stderr().contains("Invalid argument"), refused.result().toString());

    host.unlink(allowed);
    host.rmdir(subsystem);
    host.rmdir(NVMET + "/hosts/" + hostNqn);
    assertFalse(host.exists(subsystem));
    // dm-zero is not loaded at boot: this also proves the kernel can load target modules on demand.
    VmResult dm = host.exec(List.of("dmsetup", "create", "toma-calls", "--table", "0 2048 zero"));
    assertEquals(0, dm.exit(), dm.toString());
    assertEquals(1, host.exec(List.of("dmsetup", "create", "toma-calls", "--table", "0 2048 zero")).exit(),
        "a second device of the same name must be refused");
    assertEquals(0, host.exec(List.of("dmsetup", "remove", "toma-calls")).exit());
    assertNothingTomaIsLeft(vm);
  }

  /** Nothing with the Toma prefix in device-mapper or the nvmet configfs tree. */
  private static void assertNothingTomaIsLeft(QemuVm vm) {
    String left = vm.run("dmsetup ls | grep '^toma-' || true; ls %1$s/subsystems %1$s/hosts | grep '%2$s' || true"
        .formatted(NVMET, NQN_PREFIX)).out();
    assertEquals("", left, "left behind in the kernel");
  }

  private static String connectScript(Export export, String hostNqn) {
    return "nvme connect -t tcp -a 127.0.0.1 -s %d -n %s --hostnqn=%s --ctrl-loss-tmo=5 --reconnect-delay=1 -o json"
        .formatted(export.port(), export.nqn(), hostNqn);
  }

  /**
   * No udev here: the namespace's block device is found by its UUID (hidden nvmeXcYnZ paths
   * skipped). The host scans namespaces after {@code nvme connect} returns, so look for up to 30 s.
   */
  private static String findNamespaceScript(String uuid) {
    return """
        for try in $(seq 300); do
          for d in /sys/block/nvme*n*; do
            case ${d##*/} in *c*|'nvme*n*') continue ;; esac
            if [ "$(cat $d/uuid 2>/dev/null)" = %s ]; then echo /dev/${d##*/}; exit 0; fi
          done
          sleep 0.1
        done
        echo "no namespace with uuid %1$s after 30 s" >&2; exit 1
        """.formatted(uuid);
  }

  /** A dm-linear slice of a disk exported through nvmet on one TCP port of 127.0.0.1. */
  private record Export(String name, int port, String disk, long offsetSectors, long lengthSectors, String uuid) {

    String dmName() {
      return "toma-" + name;
    }

    String nqn() {
      return NQN_PREFIX + name;
    }

    /** kernel-recipes.md, "Disk node: slice and export", in that order. */
    String create(String hostNqn) {
      return """
          set -e
          dmsetup create %2$s --table '0 %5$d linear %3$s %4$d'
          dmsetup mknodes %2$s
          N=%1$s; P=$N/ports/%6$d; S=$N/subsystems/%7$s
          mkdir $P
          echo tcp > $P/addr_trtype; echo ipv4 > $P/addr_adrfam
          echo 127.0.0.1 > $P/addr_traddr; echo %6$d > $P/addr_trsvcid
          mkdir $S; echo 0 > $S/attr_allow_any_host
          mkdir $N/hosts/%8$s; ln -s $N/hosts/%8$s $S/allowed_hosts/%8$s
          mkdir $S/namespaces/1
          echo /dev/mapper/%2$s > $S/namespaces/1/device_path
          echo %9$s > $S/namespaces/1/device_uuid
          echo 1 > $S/namespaces/1/enable
          ln -s $S $P/subsystems/%7$s
          """.formatted(NVMET, dmName(), disk, offsetSectors, lengthSectors, port, nqn(), hostNqn, uuid);
    }

    /** kernel-recipes.md, "Removal order"; tolerant, so it also cleans up after a half-done create. */
    String remove(String hostNqn) {
      return """
          N=%1$s; P=$N/ports/%3$d; S=$N/subsystems/%4$s
          rm -f $P/subsystems/%4$s; rmdir $P
          echo 0 > $S/namespaces/1/enable; rmdir $S/namespaces/1
          rm -f $S/allowed_hosts/%5$s; rmdir $S; rmdir $N/hosts/%5$s
          dmsetup remove %2$s
          true
          """.formatted(NVMET, dmName(), port, nqn(), hostNqn);
    }
  }
}
