package io.toma.kernel.plan;

import static io.toma.kernel.fake.Fixtures.*;
import static org.junit.jupiter.api.Assertions.*;

import io.toma.kernel.DesiredState.AnaState;
import io.toma.kernel.KernelException;
import io.toma.kernel.KernelOp;
import io.toma.kernel.KernelState;
import io.toma.kernel.reconcile.Reconciler;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.Test;

class ShellPlanTest {

  private static String controllerPlan() throws KernelException {
    List<KernelOp> ops = Reconciler.diff(Map.of("vol1", controller("vol1", AnaState.OPTIMIZED)),
        KernelState.empty(), DISKS);
    return new ShellPlan(DISKS).render("ctrl-a", ops);
  }

  /** sh -n: the shell parses the whole script without running any of it. */
  private static void assertShellParses(String script) throws IOException, InterruptedException {
    Process sh = new ProcessBuilder("sh", "-n").redirectErrorStream(true).start();
    sh.getOutputStream().write(script.getBytes(StandardCharsets.UTF_8));
    sh.getOutputStream().close();
    String out = new String(sh.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    assertEquals(0, sh.waitFor(), "sh -n refused the plan: " + out + "\n" + script);
  }

  @Test
  void the_plan_of_a_fresh_controller_node_is_valid_sh() throws Exception {
    assertShellParses(controllerPlan());
  }

  @Test
  void the_plan_of_a_fresh_controller_holds_raid1_tables_nvmet_writes_and_ana_states_in_a_valid_order() throws Exception {
    String plan = controllerPlan();
    assertTrue(plan.startsWith("#!/bin/sh\n"));
    assertTrue(plan.contains("set -eu\n"));
    assertTrue(plan.contains("CFS='/sys/kernel/config'\n"));

    int connect = plan.indexOf("fast_io_fail_tmo=0");
    int nsLookup = plan.indexOf("toma_ns_0d9a4e55_0000_4000_8000_000000000001=$(toma_ns_dev '0d9a4e55-0000-4000-8000-000000000001')");
    int meta = plan.indexOf("dmsetup create 'toma-vol1-m0-meta' --table \"0 8192 linear ${toma_ns_0d9a4e55_0000_4000_8000_000000000001} 0\"");
    int raid1 = plan.indexOf("dmsetup create 'toma-vol1-leg0' --table '0 253952 raid raid1 3 0 region_size 1024 2 "
        + "/dev/mapper/toma-vol1-m0-meta /dev/mapper/toma-vol1-m0-data /dev/mapper/toma-vol1-m1-meta /dev/mapper/toma-vol1-m1-data'");
    int mknodes = plan.indexOf("dmsetup mknodes 'toma-vol1-leg0'");
    int raid0 = plan.indexOf("dmsetup create 'toma-vol1' --table '0 253952 striped 1 128 /dev/mapper/toma-vol1-leg0 0'");
    int subsystem = plan.indexOf("mkdir \"$NVMET\"/subsystems/'nqn.2026-11.io.toma:vol:vol1'");
    int anyHost = plan.indexOf("echo -n '0' > \"$NVMET\"/subsystems/'nqn.2026-11.io.toma:vol:vol1'/attr_allow_any_host");
    int allow = plan.indexOf("ln -s \"$NVMET\"/hosts/'" + APP_HOST + "' \"$NVMET\"/subsystems/'nqn.2026-11.io.toma:vol:vol1'/allowed_hosts/'" + APP_HOST + "'");
    int devicePath = plan.indexOf("echo -n '/dev/mapper/toma-vol1' > \"$NVMET\"/subsystems/'nqn.2026-11.io.toma:vol:vol1'/namespaces/1/device_path");
    int grpid = plan.indexOf("echo -n '2' > \"$NVMET\"/subsystems/'nqn.2026-11.io.toma:vol:vol1'/namespaces/1/ana_grpid");
    int enable = plan.indexOf("echo -n '1' > \"$NVMET\"/subsystems/'nqn.2026-11.io.toma:vol:vol1'/namespaces/1/enable");
    int port = plan.indexOf("echo -n '10.0.0.9' > \"$NVMET\"/ports/2/addr_traddr");
    int anaGroup = plan.indexOf("mkdir \"$NVMET\"/ports/2/ana_groups/2");
    int anaState = plan.indexOf("echo -n 'optimized' > \"$NVMET\"/ports/2/ana_groups/2/ana_state");
    int link = plan.indexOf("ln -s \"$NVMET\"/subsystems/'nqn.2026-11.io.toma:vol:vol1' \"$NVMET\"/ports/2/subsystems/'nqn.2026-11.io.toma:vol:vol1'");

    int[] inOrder = {connect, nsLookup, meta, raid1, mknodes, raid0, subsystem, anyHost, allow, devicePath,
        grpid, enable, anaState, link};
    for (int i = 0; i < inOrder.length; i++) {
      assertTrue(inOrder[i] >= 0, "missing step " + i + " in\n" + plan);
      if (i > 0) {
        assertTrue(inOrder[i - 1] < inOrder[i], "step " + i + " out of order in\n" + plan);
      }
    }
    assertTrue(port >= 0 && port < link && anaGroup < anaState, plan);
    assertTrue(grpid < enable, "ana_grpid must be written before enable");
  }

  @Test
  void a_leg_connection_without_fast_fail_uses_nvme_connect_with_explicit_timeouts() {
    var c = new io.toma.kernel.DesiredState.FabricConnection(sliceNqn("v", "m0"), "tcp", "10.0.0.1", 4420,
        CONTROLLER_HOST, new io.toma.kernel.DesiredState.ConnectTimeouts(5, 600, 2, Optional.empty()));
    assertEquals("nvme connect -t 'tcp' -a '10.0.0.1' -s 4420 -n 'nqn.2026-11.io.toma:ld:v-m0' "
        + "--hostnqn='nqn.2026-11.io.toma:host:ctrl-a' --keep-alive-tmo=5 --ctrl-loss-tmo=600 --reconnect-delay=2",
        ShellPlan.connect(c));
  }

  @Test
  void removal_plans_parse_and_use_rm_rmdir_and_dmsetup_remove() throws Exception {
    KernelState empty = KernelState.empty();
    List<KernelOp> ops = List.of(new KernelOp.PortUnlinkSubsystem(2, volumeNqn("vol1")),
        new KernelOp.AnaGroupRemove(2, 2), new KernelOp.PortRemove(2),
        new KernelOp.NamespaceRemove(volumeNqn("vol1"), 1),
        new KernelOp.SubsystemDisallowHost(volumeNqn("vol1"), APP_HOST),
        new KernelOp.SubsystemRemove(volumeNqn("vol1")), new KernelOp.DmRemove("toma-vol1"),
        new KernelOp.Disconnect(sliceNqn("vol1", "m0")), new KernelOp.HostRemove(APP_HOST),
        new KernelOp.DmSuspend("toma-x", true));
    String plan = new ShellPlan("/tmp/cfs", DISKS).render("n1", ops);
    assertShellParses(plan);
    assertTrue(plan.contains("CFS='/tmp/cfs'"));
    assertTrue(plan.contains("rm \"$NVMET\"/ports/2/subsystems/'nqn.2026-11.io.toma:vol:vol1'"));
    assertTrue(plan.contains("rmdir \"$NVMET\"/ports/2/ana_groups/2"));
    assertTrue(plan.contains("nvme disconnect -n 'nqn.2026-11.io.toma:ld:vol1-m0'"));
    assertTrue(plan.contains("dmsetup suspend --noflush 'toma-x'"));
    assertNotNull(empty);
  }

  @Test
  void a_wipe_of_a_new_slice_is_a_direct_dd_of_zeros_over_the_disk_range() throws Exception {
    String plan = new ShellPlan(DISKS).render("n1", List.of(new KernelOp.ZeroSectors("@disk:d1", 2048, 8192)));
    assertShellParses(plan);
    assertTrue(plan.contains("dd if=/dev/zero of='/dev/nullb1' bs=512 seek=2048 count=8192 oflag=direct "
        + "conv=notrunc,fsync status=none"), plan);
  }

  @Test
  void a_multi_line_table_is_piped_to_dmsetup() throws Exception {
    var table = List.of(new io.toma.kernel.DesiredState.DmTableLine(0, 100, "linear", "@disk:d0 0"),
        new io.toma.kernel.DesiredState.DmTableLine(100, 100, "linear", "@disk:d1 0"));
    String plan = new ShellPlan(DISKS).render("n1", List.of(new KernelOp.DmCreate("toma-cat", table)));
    assertShellParses(plan);
    assertTrue(plan.contains("printf '%s\\n' '0 100 linear /dev/nullb0 0' '100 100 linear /dev/nullb1 0' | dmsetup create 'toma-cat'"), plan);
  }

  @Test
  void a_plan_with_an_invalid_operation_is_refused_whole() {
    assertThrows(KernelException.class, () -> new ShellPlan(DISKS).render("n1",
        List.of(new KernelOp.DmCreate("toma-ok", List.of(line(1, "linear", "@disk:d0 0"))),
            new KernelOp.DmRemove("toma-x'; reboot; '"))));
  }
}
