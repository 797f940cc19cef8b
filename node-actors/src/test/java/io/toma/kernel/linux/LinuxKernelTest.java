package io.toma.kernel.linux;

import static io.toma.kernel.fake.Fixtures.*;
import static org.junit.jupiter.api.Assertions.*;

import io.toma.kernel.DesiredState;
import io.toma.kernel.DesiredState.AnaState;
import io.toma.kernel.DesiredState.ConnectTimeouts;
import io.toma.kernel.DesiredState.FabricConnection;
import io.toma.kernel.Kernel.BlockDeviceInfo;
import io.toma.kernel.KernelException;
import io.toma.kernel.KernelOp;
import io.toma.kernel.KernelState;
import io.toma.kernel.reconcile.AppliedRecord;
import io.toma.kernel.reconcile.Reconciler;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

class LinuxKernelTest {
  private static final String CFS = "/cfs";
  private MemoryHostIo io;
  private LinuxKernel kernel;

  @BeforeEach
  void machine() {
    io = new MemoryHostIo();
    io.mkdirs(CFS + "/nvmet/subsystems");
    io.mkdirs(CFS + "/nvmet/ports");
    io.mkdirs(CFS + "/nvmet/hosts");
    io.mkdirs("/sys/block");
    io.mkdirs("/sys/class/nvme");
    io.mkdirs("/sys/class/block/nullb0");
    io.files.put("/sys/class/block/nullb0/size", "262144\n");
    io.mkdirs("/dev");
    io.files.put("/dev/nullb0", "");
    io.mkdirs("/tmp");
    kernel = new LinuxKernel(io, CFS, "/sys", "/tmp", DISKS).withNamespaceWait(1, 0);
  }

  @Test
  void a_disk_node_export_becomes_configfs_writes_and_dmsetup_argument_lists() throws Exception {
    List<KernelOp> ops = Reconciler.diff(Map.of("vol1", diskNode("vol1", 262144)), KernelState.empty(), DISKS);
    for (KernelOp op : ops) {
      kernel.apply(op);
    }
    String nqn = sliceNqn("vol1", "m0");
    assertTrue(io.calls.contains("exec dmsetup create toma-vol1-m0 --table 0 262144 linear /dev/nullb0 0"), io.calls.toString());
    assertTrue(io.calls.contains("exec dmsetup mknodes toma-vol1-m0"));
    assertTrue(io.calls.contains("write /cfs/nvmet/subsystems/" + nqn + "/attr_allow_any_host 0"));
    assertTrue(io.calls.contains("write /cfs/nvmet/subsystems/" + nqn + "/namespaces/1/device_path /dev/mapper/toma-vol1-m0"));
    assertTrue(io.calls.contains("symlink /cfs/nvmet/hosts/" + CONTROLLER_HOST + " /cfs/nvmet/subsystems/" + nqn
        + "/allowed_hosts/" + CONTROLLER_HOST));
    assertTrue(io.calls.contains("symlink /cfs/nvmet/subsystems/" + nqn + " /cfs/nvmet/ports/1/subsystems/" + nqn));
    assertTrue(io.calls.indexOf("write /cfs/nvmet/subsystems/" + nqn + "/namespaces/1/ana_grpid 1")
        < io.calls.indexOf("write /cfs/nvmet/subsystems/" + nqn + "/namespaces/1/enable 1"));
  }

  @Test
  void a_brand_new_slice_has_its_metadata_area_zeroed_with_dd_on_the_disk_before_dmsetup_creates_it() throws Exception {
    DesiredState plain = diskNode("vol1", 262144);
    DesiredState fresh = new DesiredState("vol1", plain.epoch(), plain.dmDevices().stream()
        .map(d -> new DesiredState.DmDevice(d.name(), d.table(), 8192)).toList(),
        plain.subsystems(), plain.ports(), plain.connections());
    for (KernelOp op : Reconciler.diff(Map.of("vol1", fresh), KernelState.empty(), DISKS)) {
      kernel.apply(op);
    }
    String dd = "exec dd if=/dev/zero of=/dev/nullb0 bs=512 seek=0 count=8192 oflag=direct conv=notrunc,fsync status=none";
    assertTrue(io.calls.contains(dd), io.calls.toString());
    assertTrue(io.calls.indexOf(dd) < io.calls.indexOf("exec dmsetup create toma-vol1-m0 --table 0 262144 linear /dev/nullb0 0"));
  }

  @Test
  void a_failed_wipe_stops_the_apply_before_the_slice_exists() {
    io.processes = argv -> argv.get(0).equals("dd")
        ? new HostIo.ExecResult(1, "", "dd: error writing '/dev/nullb0': Input/output error")
        : new HostIo.ExecResult(0, "", "");
    KernelException e = assertThrows(KernelException.class,
        () -> kernel.apply(new KernelOp.ZeroSectors("@disk:d0", 0, 8192)));
    assertTrue(e.getMessage().contains("Input/output error"), e.getMessage());
    assertFalse(io.calls.stream().anyMatch(c -> c.startsWith("exec dmsetup")));
  }

  @Test
  void configfs_is_read_back_as_the_kernel_state_it_was_written_to() throws Exception {
    for (KernelOp op : Reconciler.diff(Map.of("vol1", diskNode("vol1", 262144)), KernelState.empty(), DISKS)) {
      kernel.apply(op);
    }
    // what configfs shows once written: values with newlines
    String nqn = sliceNqn("vol1", "m0");
    io.files.put(CFS + "/nvmet/subsystems/" + nqn + "/namespaces/1/device_uuid", M0_UUID + "\n");
    KernelState s = kernel.read();
    assertEquals(1, s.ports().get(1).anaGroups().size());
    assertEquals(AnaState.OPTIMIZED, s.ports().get(1).anaGroups().get(1));
    assertEquals("10.0.0.1", s.ports().get(1).address());
    assertEquals(4420, s.ports().get(1).serviceId());
    assertTrue(s.ports().get(1).subsystems().contains(nqn));
    assertEquals(java.util.Set.of(CONTROLLER_HOST), s.subsystems().get(nqn).allowedHosts());
    assertEquals("/dev/mapper/toma-vol1-m0", s.subsystems().get(nqn).namespaces().get(1).devicePath());
    assertEquals(M0_UUID, s.subsystems().get(nqn).namespaces().get(1).deviceUuid());
    assertTrue(s.subsystems().get(nqn).namespaces().get(1).enabled());
    assertFalse(s.subsystems().get(nqn).allowAnyHost());
    assertTrue(s.hosts().contains(CONTROLLER_HOST));
  }

  @Test
  void dm_tables_printed_as_major_minor_are_read_back_with_device_paths() throws Exception {
    io.processes = argv -> switch (argv.get(1)) {
      case "info" -> new HostIo.ExecResult(0, """
          Name:              toma-vol1-leg0
          State:             ACTIVE
          Major, minor:      253, 2

          Name:              toma-vol1-m0-meta
          State:             SUSPENDED
          Major, minor:      253, 0
          """, "");
      case "table" -> new HostIo.ExecResult(0,
          "toma-vol1-leg0: 0 253952 raid raid1 3 0 region_size 1024 2 253:0 259:1 - -\n"
              + "toma-vol1-m0-meta: 0 8192 linear 259:1 0\n", "");
      case "status" -> new HostIo.ExecResult(0,
          "toma-vol1-leg0: 0 253952 raid raid1 2 aa 0/253952 resync 0 0 -\ntoma-vol1-m0-meta: 0 8192 linear \n", "");
      default -> new HostIo.ExecResult(1, "", "unexpected");
    };
    io.mkdirs("/sys/dev/block");
    io.links.put("/sys/dev/block/259:1", "../../devices/virtual/nvme-subsystem/nvme-subsys0/nvme0n1");
    KernelState s = kernel.read();
    assertEquals("raid1 3 0 region_size 1024 2 /dev/mapper/toma-vol1-m0-meta /dev/nvme0n1 - -",
        s.dmDevices().get("toma-vol1-leg0").table().get(0).args());
    assertTrue(s.dmDevices().get("toma-vol1-m0-meta").suspended());
    assertTrue(s.dmDevices().get("toma-vol1-leg0").status().contains(" aa 0/253952 resync"));
  }

  @Test
  void host_side_controllers_and_their_namespaces_are_found_in_sys_without_udev() throws Exception {
    io.mkdirs("/sys/class/nvme/nvme0");
    io.files.put("/sys/class/nvme/nvme0/state", "connecting\n");
    io.files.put("/sys/class/nvme/nvme0/subsysnqn", sliceNqn("vol1", "m0") + "\n");
    io.files.put("/sys/class/nvme/nvme0/address", "traddr=10.0.0.1,trsvcid=4420,src_addr=10.0.0.9\n");
    io.files.put("/sys/class/nvme/nvme0/hostnqn", CONTROLLER_HOST + "\n");
    io.mkdirs("/sys/block/nvme0n1/device");
    io.files.put("/sys/block/nvme0n1/uuid", M0_UUID + "\n");
    io.files.put("/sys/block/nvme0n1/device/subsysnqn", sliceNqn("vol1", "m0") + "\n");
    io.mkdirs("/sys/block/nvme0c0n1");
    io.files.put("/sys/block/nvme0c0n1/uuid", M0_UUID + "\n");

    KernelState s = kernel.read();
    assertEquals(1, s.controllers().size());
    var c = s.controllers().get(0);
    assertEquals("connecting", c.state());
    assertEquals("10.0.0.1", c.address());
    assertEquals(4420, c.serviceId());
    assertEquals(Map.of(M0_UUID, "/dev/nvme0n1"), c.namespaceDevicesByUuid());
    assertEquals("/dev/nvme0n1", kernel.resolve("@ns:" + M0_UUID));
  }

  @Test
  void a_leg_connects_with_fast_fail_through_dev_nvme_fabrics_and_a_host_with_nvme_connect() throws Exception {
    io.files.put("/dev/nvme-fabrics", "");
    kernel.apply(new KernelOp.Connect(new FabricConnection(sliceNqn("v", "m0"), "tcp", "10.0.0.1", 4420,
        CONTROLLER_HOST, legTimeouts())));
    assertEquals("nqn=" + sliceNqn("v", "m0") + ",transport=tcp,traddr=10.0.0.1,trsvcid=4420,hostnqn="
        + CONTROLLER_HOST + ",ctrl_loss_tmo=30,reconnect_delay=1,keep_alive_tmo=5,fast_io_fail_tmo=0",
        io.files.get("/dev/nvme-fabrics"));

    kernel.apply(new KernelOp.Connect(new FabricConnection(volumeNqn("v"), "tcp", "10.0.0.9", 4430,
        CONTROLLER_HOST, new ConnectTimeouts(5, 600, 2, Optional.empty()))));
    assertEquals("exec nvme connect -t tcp -a 10.0.0.9 -s 4430 -n " + volumeNqn("v") + " --hostnqn=" + CONTROLLER_HOST
        + " --keep-alive-tmo=5 --ctrl-loss-tmo=600 --reconnect-delay=2", io.calls.get(io.calls.size() - 1));
  }

  @Test
  void a_refusal_of_dmsetup_is_a_kernel_exception_with_its_words() {
    io.processes = argv -> new HostIo.ExecResult(1, "", "device-mapper: remove ioctl on toma-x failed: Device or resource busy");
    KernelException e = assertThrows(KernelException.class, () -> kernel.apply(new KernelOp.DmRemove("toma-x")));
    assertTrue(e.getMessage().contains("Device or resource busy"), e.getMessage());
  }

  @Test
  void an_invalid_operation_never_reaches_a_path_or_a_process() {
    assertThrows(KernelException.class, () -> kernel.apply(new KernelOp.HostCreate("nqn.2026-11.io.toma:../../../x")));
    assertThrows(KernelException.class, () -> kernel.apply(new KernelOp.DmCreate("toma-x",
        List.of(line(10, "linear", "/dev/sda;reboot 0")))));
    assertTrue(io.calls.isEmpty(), io.calls.toString());
  }

  @Test
  void block_devices_report_size_and_presence() throws Exception {
    List<BlockDeviceInfo> infos = kernel.blockDevices(List.of("/dev/nullb0", "/dev/nullb1"));
    assertEquals(new BlockDeviceInfo("/dev/nullb0", 262144L * 512, true), infos.get(0));
    assertFalse(infos.get(1).present());
  }

  @Test
  void a_reconcile_through_the_linux_backend_reads_back_as_nothing_left_to_do() throws Exception {
    AppliedRecord rec = AppliedRecord.empty();
    var held = Map.of("vol1", diskNode("vol1", 262144));
    for (KernelOp op : Reconciler.diff(held, kernel.read(), DISKS, rec)) {
      kernel.apply(op);
      rec = rec.after(op);
    }
    String nqn = sliceNqn("vol1", "m0");
    io.processes = argv -> switch (argv.get(1)) {
      case "info" -> new HostIo.ExecResult(0, "Name: toma-vol1-m0\nState: ACTIVE\nMajor, minor: 253, 0\n", "");
      case "table" -> new HostIo.ExecResult(0, "toma-vol1-m0: 0 262144 linear 251:0 0\n", "");
      default -> new HostIo.ExecResult(0, "", "");
    };
    assertEquals(List.of(), Reconciler.diff(held, kernel.read(), DISKS, rec.withEpochsOf(held)));
    assertNotNull(nqn);
  }
}
