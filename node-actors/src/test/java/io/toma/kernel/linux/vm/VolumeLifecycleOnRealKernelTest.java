package io.toma.kernel.linux.vm;

import static io.toma.kernel.linux.vm.ShellQuote.quote;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import io.toma.kernel.DesiredState;
import io.toma.kernel.DmRaidStatus;
import io.toma.kernel.KernelOp;
import io.toma.kernel.KernelState;
import io.toma.kernel.linux.vm.VolumeRecipe.Controller;
import io.toma.kernel.linux.vm.VolumeRecipe.DiskNode;
import io.toma.kernel.linux.vm.VolumeRecipe.Member;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.TestMethodOrder;
import org.junit.jupiter.api.extension.ExtensionContext;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.extension.TestWatcher;

/**
 * The life of one mirrored, striped volume on real kernels, each step done by the Linux backend's
 * own operations: desired states (as the topology manager derives them) are diffed by the
 * Reconciler against what LinuxKernel reads from the kernel, and applied by LinuxKernel over
 * {@link VmHostIo}. Data is checked by MD5 after every step.
 *
 * <p>Three VMs in a star ({@link VmStar}): "disks" holds the three disk nodes (null_blk disks,
 * one nvmet port each) and the application host; "ctl-a" and "ctl-b" are the two controllers.
 * Controllers need kernels of their own: both export the volume under one subsystem NQN, which one
 * nvmet can hold only once; being separate also lets a controller be cut off for real.
 */
@RealKernel
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class VolumeLifecycleOnRealKernelTest {

  private static final String HUB = "disks";
  private static final String A = "ctl-a";
  private static final String B = "ctl-b";
  private static final String HUB_ADDRESS = "10.88.0.1";
  private static final String NQN = "nqn.2026-11.io.toma:";
  private static final int DISK_MB = 128;
  private static final int PATTERN_MIB = 8;

  private final DiskNode d1 = new DiskNode("d1", "d1", HUB_ADDRESS, 1, 4420);
  private final DiskNode d2 = new DiskNode("d2", "d2", HUB_ADDRESS, 2, 4421);
  private final DiskNode d3 = new DiskNode("d3", "d3", HUB_ADDRESS, 3, 4422);
  private final List<DiskNode> diskNodes = List.of(d1, d2, d3);
  private final Controller ctlA = new Controller(A, true, "10.88.0.2", NQN + "host:ctl-a", 4430, 2, 1, 999);
  private final Controller ctlB = new Controller(B, false, "10.88.0.3", NQN + "host:ctl-b", 4431, 3, 1000, 1999);

  private VmStar star;
  private ReconcilingNode disks;
  private ReconcilingNode nodeA;
  private ReconcilingNode nodeB;
  private AppHost host;
  private VolumeRecipe volume;
  /** Patterns written so far: offset in MiB → MD5; every step checks all of them. */
  private final Map<Long, String> written = new TreeMap<>();

  @BeforeAll
  void bootThreeKernels() {
    QemuVm.Options small = QemuVm.Options.defaults().withDisks(0, 1).withCpus(1).withMemoryMb(384);
    Instant start = Instant.now();
    star = VmStar.boot(
        new VmStar.Member(HUB, QemuVm.Options.defaults().withDisks(3, DISK_MB), HUB_ADDRESS),
        List.of(new VmStar.Member(A, small, ctlA.address()), new VmStar.Member(B, small, ctlB.address())));
    System.out.printf("three VMs booted and linked in %d ms%n", Duration.between(start, Instant.now()).toMillis());
    disks = new ReconcilingNode(HUB, star.vm(HUB), Map.of("d1", "/dev/nullb0", "d2", "/dev/nullb1", "d3", "/dev/nullb2"));
    nodeA = new ReconcilingNode(A, star.vm(A), Map.of());
    nodeB = new ReconcilingNode(B, star.vm(B), Map.of());
    host = new AppHost(star.vm(HUB), "nqn.2014-08.org.example:app-host-1");
    long mib = 1024 * 1024;
    volume = new VolumeRecipe("v1", 1, 2, 24 * mib,
        List.of(new Member(0, 0, d1, 0, false), new Member(0, 1, d2, 0, false),
            new Member(1, 0, d3, 0, false), new Member(1, 1, d1, 28 * mib, false)),
        List.of(ctlA, ctlB), List.of(host.hostNqn()), "5d1c0b52-7e3a-4f0e-9b6a-2c4d8e1f0a71");
  }

  /** Each scenario starts where the previous one ended: after a failure the rest cannot mean much. */
  @RegisterExtension
  final TestWatcher stopAfterAFailure = new TestWatcher() {
    @Override
    public void testFailed(ExtensionContext context, Throwable cause) {
      earlierFailure = context.getDisplayName();
    }
  };

  private String earlierFailure;

  @BeforeEach
  void previousScenariosSucceeded() {
    assumeTrue(earlierFailure == null, () -> "skipped: the earlier scenario " + earlierFailure + " failed");
  }

  @AfterAll
  void powerOff() {
    if (star != null) {
      star.close();
    }
  }

  @Test
  @Order(1)
  void diskNodesExportTheirSlicesOnlyToTheControllersOfTheVolume() throws Exception {
    disks.reconcile(volume.diskNodes(diskNodes));

    KernelState state = disks.read();
    assertEquals(disks.readCallByCall(), state, "the batched configfs read differs from reading each attribute");
    for (Member m : volume.members()) {
      assertTrue(state.dmDevices().containsKey(volume.sliceDm(m)), "slice " + volume.sliceDm(m) + " missing");
      assertEquals(Set.of(ctlA.hostNqn(), ctlB.hostNqn()),
          state.subsystems().get(volume.memberNqn(m)).allowedHosts(), "allow-list of " + volume.memberNqn(m));
      assertFalse(state.subsystems().get(volume.memberNqn(m)).allowAnyHost());
    }
    assertTrue(disks.diff(volume.diskNodes(diskNodes)).isEmpty(), "a second reconcile would still change something");

    // A host outside the allow-list (the application host itself) is refused by the kernel.
    Member first = volume.members().get(0);
    VmResult refused = host.connect(HUB_ADDRESS, d1.serviceId(), volume.memberNqn(first));
    assertNotEquals(0, refused.exit(), "a host outside allowed_hosts connected:\n" + refused);
    assertTrue(star.vm(HUB).dmesg().contains("connect by host " + host.hostNqn() + " for subsystem "
        + volume.memberNqn(first) + " not allowed"), "nvmet did not log the refusal");

    // The slice maps the disk: a pattern written on the disk reads back through the slice.
    VmData data = new VmData(star.vm(HUB));
    String onDisk = data.writeRandom("/dev/nullb2", 4, 4);
    String viaSlice = data.md5("/dev/mapper/" + volume.sliceDm(volume.members().get(2)), 4, 4);
    System.out.printf("scenario 1 checksums: written on nullb2 %s, read through %s %s%n", onDisk,
        volume.sliceDm(volume.members().get(2)), viaSlice);
    assertEquals(onDisk, viaSlice);
  }

  @Test
  @Order(2)
  void theActiveControllerServesTheHostWhileTheStandbyWaitsInaccessible() throws Exception {
    nodeA.reconcile(Map.of("v1", volume.controller(A)));
    nodeB.reconcile(Map.of("v1", volume.controller(B)));
    assertTrue(nodeA.diff(Map.of("v1", volume.controller(A))).isEmpty(), "ctl-a did not converge");
    assertTrue(nodeB.diff(Map.of("v1", volume.controller(B))).isEmpty(), "ctl-b did not converge");

    KernelState a = nodeA.read();
    assertEquals(4, a.controllers().stream().filter(c -> c.hostNqn().equals(ctlA.hostNqn())).count(),
        "ctl-a's leg connections: " + a.controllers());
    for (int leg = 0; leg < 2; leg++) {
      assertEquals("raid1", raid(nodeA, leg).raidType());
    }
    assertTrue(a.dmDevices().get(volume.volumeDm()).table().get(0).target().equals("striped"));
    assertEquals(DesiredState.AnaState.OPTIMIZED, a.ports().get(ctlA.serviceId()).anaGroups().get(ctlA.anaGroup()));
    KernelState b = nodeB.read();
    assertEquals("error", b.dmDevices().get(volume.volumeDm()).table().get(0).target());
    assertEquals(DesiredState.AnaState.INACCESSIBLE, b.ports().get(ctlB.serviceId()).anaGroups().get(ctlB.anaGroup()));

    for (int leg = 0; leg < 2; leg++) {
      DmRaidStatus s = awaitInSync(nodeA, leg);
      System.out.printf("scenario 2: leg %d in sync: %s %d/%d %s%n", leg, s.health(), s.syncedSectors(), s.totalSectors(), s.syncAction());
    }

    assertEquals(0, host.connect(ctlA.address(), ctlA.serviceId(), volume.volumeNqn()).exit());
    assertEquals(0, host.connect(ctlB.address(), ctlB.serviceId(), volume.volumeNqn()).exit());
    String pathA = host.awaitPath(volume.volumeNqn(), ctlA.address(), ctlA.serviceId(), "live optimized"::equals, Duration.ofSeconds(30));
    String pathB = host.awaitPath(volume.volumeNqn(), ctlB.address(), ctlB.serviceId(), "live inaccessible"::equals, Duration.ofSeconds(30));
    assertEquals("live optimized", pathA, "the host's path through the active controller");
    assertEquals("live inaccessible", pathB, "the host's path through the standby");

    String device = host.namespaceDevice(volume.namespaceUuid());
    writePattern(device, 0, "scenario 2");
    verifyPatterns(device, "scenario 2");
  }

  @Test
  @Order(3)
  void aMirrorKeepsServingWhenAMembersDiskIsLostAndResyncsAReplacement() throws Exception {
    Member lost = volume.members().get(1); // l0r1 on d2
    // The disk under the member dies: its slice fails every I/O (kernel-recipes: an error target).
    star.vm(HUB).run("""
        set -e
        dmsetup reload %1$s --table '0 %2$d error'
        dmsetup suspend %1$s
        dmsetup resume %1$s
        """.formatted(volume.sliceDm(lost), volume.extentSectors()));
    String device = host.namespaceDevice(volume.namespaceUuid());
    writePattern(device, 16, "scenario 3, member lost");
    DmRaidStatus degraded = raid(nodeA, 0);
    System.out.printf("scenario 3: leg 0 after the loss: %s %s%n", degraded.health(), degraded.syncAction());
    assertEquals("AD", degraded.health(), "raid1 must mark the lost member dead and carry on");
    verifyPatterns(device, "scenario 3, degraded");

    // Replacement on d3 (d1 holds the other member of leg 0). It keeps the member's tag, so its
    // meta and data devices keep their names and the leg's table reads the same: the reconcile
    // swaps the devices under the raid1 and dm-raid never hears of it. The leg stays degraded.
    List<Member> members = new ArrayList<>(volume.members());
    members.set(1, new Member(0, 1, d3, 28L * 1024 * 1024, false));
    volume = volume.withMembers(members);
    disks.reconcile(volume.diskNodes(diskNodes));
    List<KernelOp> swapped = nodeA.reconcile(Map.of("v1", volume.controller(A))).ops();
    assertTrue(swapped.stream().noneMatch(op -> op instanceof KernelOp.DmReload r && r.name().equals(volume.legDm(0))), swapped.toString());
    DmRaidStatus unaware = raid(nodeA, 0);
    System.out.printf("scenario 3: replacement connected, leg table unchanged: %s %s%n", unaware.health(), unaware.syncAction());
    assertEquals("AD", unaware.health(), "the raid1 took a member nobody told it about");
    // With "rebuild 1" in the leg's table the raid1 is reloaded and recovers the slot.
    members.set(1, new Member(0, 1, d3, 28L * 1024 * 1024, true));
    volume = volume.withMembers(members);
    nodeA.reconcile(Map.of("v1", volume.controller(A)));
    DmRaidStatus rebuilt = awaitInSync(nodeA, 0);
    System.out.printf("scenario 3: leg 0 after the rebuild: %s %d/%d %s%n", rebuilt.health(), rebuilt.syncedSectors(),
        rebuilt.totalSectors(), rebuilt.syncAction());
    assertEquals("AA", rebuilt.health());

    // Rebuild done: the plain table again, accepted without another resync.
    members.set(1, new Member(0, 1, d3, 28L * 1024 * 1024, false));
    volume = volume.withMembers(members);
    nodeA.reconcile(Map.of("v1", volume.controller(A)));
    assertEquals("AA", raid(nodeA, 0).health());
    verifyPatterns(device, "scenario 3, after the rebuild");
    // The new member holds the same bytes as the survivor: read both from ctl-a.
    String survivor = new VmData(star.vm(A)).md5("/dev/mapper/" + volume.dataDm(volume.members().get(0)), 0, 24);
    String replacement = new VmData(star.vm(A)).md5("/dev/mapper/" + volume.dataDm(volume.members().get(1)), 0, 24);
    System.out.printf("scenario 3 checksums of leg 0's members: survivor %s, replacement %s%n", survivor, replacement);
    assertEquals(survivor, replacement, "the replacement member did not resync to the survivor's content");
  }

  @Test
  @Order(4)
  void failoverFencesTheOldControllerAndTheStandbyTakesOverWithTheDataIntact() throws Exception {
    String device = host.namespaceDevice(volume.namespaceUuid());
    // ctl-a is lost: its fabric link goes down (its agent stays reachable through the test channel).
    star.linkUp(A, false);

    // Epoch 2: ctl-b is the active controller, ctl-a is out of the placement.
    Controller promoted = new Controller(B, true, ctlB.address(), ctlB.hostNqn(), ctlB.serviceId(), ctlB.anaGroup(),
        ctlB.cntlidMin(), ctlB.cntlidMax());
    volume = volume.withEpoch(2).withControllers(List.of(promoted));
    List<KernelOp> fencing = disks.reconcile(volume.diskNodes(diskNodes)).ops();
    assertTrue(fencing.stream().anyMatch(op -> op instanceof KernelOp.SubsystemDisallowHost d && d.hostNqn().equals(ctlA.hostNqn())),
        "the disk nodes did not revoke ctl-a: " + fencing);
    assertTrue(fencing.stream().anyMatch(op -> op instanceof KernelOp.DmSuspend), "the disk nodes did not flush: " + fencing);
    KernelState fenced = disks.read();
    for (Member m : volume.members()) {
      assertEquals(Set.of(ctlB.hostNqn()), fenced.subsystems().get(volume.memberNqn(m)).allowedHosts());
    }

    nodeB.reconcile(Map.of("v1", volume.controller(B)));
    for (int leg = 0; leg < 2; leg++) {
      DmRaidStatus s = raid(nodeB, leg);
      System.out.printf("scenario 4: ctl-b assembled leg %d from the members' metadata: %s %d/%d %s%n", leg, s.health(),
          s.syncedSectors(), s.totalSectors(), s.syncAction());
      assertTrue(s.health().matches("[Aa]+"), "ctl-b's leg " + leg + " has a dead member: " + s.health());
    }
    KernelState b = nodeB.read();
    assertEquals("striped", b.dmDevices().get(volume.volumeDm()).table().get(0).target());
    assertEquals(DesiredState.AnaState.OPTIMIZED, b.ports().get(ctlB.serviceId()).anaGroups().get(ctlB.anaGroup()));
    String pathB = host.awaitPath(volume.volumeNqn(), ctlB.address(), ctlB.serviceId(), "live optimized"::equals, Duration.ofSeconds(30));
    assertEquals("live optimized", pathB);
    verifyPatterns(device, "scenario 4, after the failover");
    writePattern(device, 32, "scenario 4, written after the failover");

    // ctl-a comes back as the volume's standby (epoch 3): placeholder, inaccessible. It is
    // demoted while still cut off, so the host never sees it optimized again.
    Controller demoted = new Controller(A, false, ctlA.address(), ctlA.hostNqn(), ctlA.serviceId(), ctlA.anaGroup(),
        ctlA.cntlidMin(), ctlA.cntlidMax());
    volume = volume.withEpoch(3).withControllers(List.of(promoted, demoted));
    nodeA.reconcile(Map.of("v1", volume.controller(A)));
    assertEquals("error", nodeA.read().dmDevices().get(volume.volumeDm()).table().get(0).target());
    star.linkUp(A, true);
    disks.reconcile(volume.diskNodes(diskNodes));
    nodeB.reconcile(Map.of("v1", volume.controller(B)));
    String pathA = host.awaitPath(volume.volumeNqn(), ctlA.address(), ctlA.serviceId(), "live inaccessible"::equals, Duration.ofSeconds(60));
    assertEquals("live inaccessible", pathA, "the old active's path");
    writePattern(device, 40, "scenario 4, with the old path back");
    verifyPatterns(device, "scenario 4, end");
  }

  @Test
  @Order(5)
  void deletingTheVolumeLeavesNothingOfTomaInAnyKernel() {
    host.disconnect(volume.volumeNqn());
    nodeB.reconcile(Map.of());
    nodeA.reconcile(Map.of());
    disks.reconcile(Map.of());
    for (String vm : List.of(HUB, A, B)) {
      String left = star.vm(vm).run("""
          dmsetup ls | grep toma- || true
          find /sys/kernel/config/nvmet | grep -e io.toma -e '/ports/.' || true
          ls /sys/class/nvme/ 2>/dev/null || true
          """).out();
      System.out.printf("scenario 5: left in %s: '%s'%n", vm, left);
      assertEquals("", left, "left behind in " + vm);
    }
  }

  // ---- helpers ----

  private void writePattern(String device, long offsetMib, String step) {
    String md5 = new VmData(star.vm(HUB)).writeRandom(device, offsetMib, PATTERN_MIB);
    written.put(offsetMib, md5);
    System.out.printf("%s: wrote %d MiB at %d MiB through %s, md5 %s%n", step, PATTERN_MIB, offsetMib, device, md5);
  }

  private void verifyPatterns(String device, String step) {
    VmData data = new VmData(star.vm(HUB));
    for (Map.Entry<Long, String> e : written.entrySet()) {
      String read = data.md5(device, e.getKey(), PATTERN_MIB);
      System.out.printf("%s: read back %d MiB at %d MiB: md5 %s (written %s)%n", step, PATTERN_MIB, e.getKey(), read, e.getValue());
      assertEquals(e.getValue(), read, step + ": the data at " + e.getKey() + " MiB changed");
    }
  }

  private DmRaidStatus raid(ReconcilingNode node, int leg) {
    String status = node.vm().run("dmsetup status " + quote(volume.legDm(leg))).out();
    return DmRaidStatus.tryParse(status).orElseThrow(() -> new AssertionError("not a raid status: " + status));
  }

  /** Waits (generously: TCG) for the leg to be all 'A' and idle, then returns its status. */
  private DmRaidStatus awaitInSync(ReconcilingNode node, int leg) {
    Instant start = Instant.now();
    Instant deadline = start.plus(Duration.ofSeconds(120));
    DmRaidStatus s = raid(node, leg);
    while (!(s.health().matches("A+") && s.syncAction().equals("idle")) && Instant.now().isBefore(deadline)) {
      node.vm().run("sleep 0.5");
      s = raid(node, leg);
    }
    System.out.printf("%s leg %d: %s %s after %d ms of waiting%n", node.name(), leg, s.health(), s.syncAction(),
        Duration.between(start, Instant.now()).toMillis());
    return s;
  }
}
