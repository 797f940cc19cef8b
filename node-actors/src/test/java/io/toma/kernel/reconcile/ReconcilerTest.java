package io.toma.kernel.reconcile;

import static io.toma.kernel.fake.Fixtures.*;
import static org.junit.jupiter.api.Assertions.*;

import io.toma.kernel.DesiredState;
import io.toma.kernel.DesiredState.AnaState;
import io.toma.kernel.DesiredState.DmDevice;
import io.toma.kernel.KernelException;
import io.toma.kernel.KernelOp;
import io.toma.kernel.KernelState;
import io.toma.kernel.Names;
import io.toma.kernel.fake.FakeKernel;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeMap;
import java.util.function.Predicate;
import org.junit.jupiter.api.Test;

class ReconcilerTest {

  /** Diff and apply, as the agent does, keeping the record. */
  private static final class Node {
    final FakeKernel kernel;
    AppliedRecord record = AppliedRecord.empty();

    Node(FakeKernel kernel) {
      this.kernel = kernel;
    }

    List<KernelOp> reconcile(Map<String, DesiredState> held) throws KernelException {
      List<KernelOp> ops = Reconciler.diff(held, kernel.read(), DISKS, record);
      for (KernelOp op : ops) {
        kernel.apply(op);
        record = record.after(op);
      }
      record = record.withEpochsOf(held);
      return ops;
    }
  }

  private static int indexOf(List<KernelOp> ops, Predicate<KernelOp> p) {
    for (int i = 0; i < ops.size(); i++) {
      if (p.test(ops.get(i))) {
        return i;
      }
    }
    fail("no such operation in " + ops);
    return -1;
  }

  @Test
  void a_fresh_disk_node_builds_slice_then_export_in_the_kernels_order() throws Exception {
    Node node = new Node(new FakeKernel(DISKS));
    List<KernelOp> ops = node.reconcile(Map.of("vol1", diskNode("vol1", 262144)));

    int host = indexOf(ops, o -> o instanceof KernelOp.HostCreate);
    int slice = indexOf(ops, o -> o instanceof KernelOp.DmCreate);
    int port = indexOf(ops, o -> o instanceof KernelOp.PortCreate);
    int sub = indexOf(ops, o -> o instanceof KernelOp.SubsystemCreate);
    int allow = indexOf(ops, o -> o instanceof KernelOp.SubsystemAllowHost);
    int ns = indexOf(ops, o -> o instanceof KernelOp.NamespaceCreate);
    int link = indexOf(ops, o -> o instanceof KernelOp.PortLinkSubsystem);
    assertTrue(host < allow && slice < ns && port < link && sub < allow && allow < ns && ns < link, ops.toString());
    assertEquals(7, ops.size(), ops.toString());
    assertTrue(node.kernel.read().subsystems().get(sliceNqn("vol1", "m0")).allowedHosts().contains(CONTROLLER_HOST));
  }

  @Test
  void an_active_controller_demoted_to_standby_reloads_its_top_device_before_removing_the_legs() throws Exception {
    // Found on a real kernel: removing the raid1 leg while the striped top device still used it
    // failed with "Device or resource busy"; the top must first be reloaded to its error placeholder.
    Node node = new Node(controllerKernel("vol1"));
    node.reconcile(Map.of("vol1", controller("vol1", AnaState.OPTIMIZED)));
    DesiredState active = controller("vol1", AnaState.OPTIMIZED);
    String top = Names.PREFIX + "vol1";
    DesiredState standby = new DesiredState("vol1", 2,
        List.of(new DmDevice(top, List.of(line(253952, "error", "")))),
        active.subsystems(),
        List.of(new DesiredState.NvmetPort(2, "tcp", "ipv4", "10.0.0.9", 4430, Map.of(2, AnaState.INACCESSIBLE),
            List.of(volumeNqn("vol1")))),
        List.of());

    List<KernelOp> ops = node.reconcile(Map.of("vol1", standby));

    int reload = indexOf(ops, o -> o instanceof KernelOp.DmReload r && r.name().equals(top));
    int resume = indexOf(ops, o -> o instanceof KernelOp.DmResume r && r.name().equals(top));
    int legGone = indexOf(ops, o -> o instanceof KernelOp.DmRemove r && r.name().equals(top + "-leg0"));
    int metaGone = indexOf(ops, o -> o instanceof KernelOp.DmRemove r && r.name().equals(top + "-m0-meta"));
    int disconnect = indexOf(ops, o -> o instanceof KernelOp.Disconnect);
    assertTrue(reload < resume && resume < legGone && legGone < metaGone && metaGone < disconnect, ops.toString());
    assertEquals(Set.of(top), node.kernel.read().dmDevices().keySet());
    assertEquals(List.of(), node.reconcile(Map.of("vol1", standby)));
  }

  @Test
  void reconciling_an_unchanged_node_again_does_nothing() throws Exception {
    Node node = new Node(controllerKernel("vol1"));
    Map<String, DesiredState> held = Map.of("vol1", controller("vol1", AnaState.OPTIMIZED));
    assertFalse(node.reconcile(held).isEmpty());
    assertEquals(List.of(), node.reconcile(held));
  }

  @Test
  void without_a_record_live_tables_are_compared_after_resolving_device_references() throws Exception {
    Node node = new Node(controllerKernel("vol1"));
    Map<String, DesiredState> held = Map.of("vol1", controller("vol1", AnaState.OPTIMIZED));
    node.reconcile(held);
    // an agent that lost its record (or never wrote it) must still see that nothing changed
    assertEquals(List.of(), Reconciler.diff(held, node.kernel.read(), DISKS, AppliedRecord.empty()));
  }

  @Test
  void a_controller_connects_its_legs_before_building_raid1_then_raid0_then_exports_with_ana() throws Exception {
    Node node = new Node(controllerKernel("vol1"));
    List<KernelOp> ops = node.reconcile(Map.of("vol1", controller("vol1", AnaState.OPTIMIZED)));

    int lastConnect = 0;
    for (int i = 0; i < ops.size(); i++) {
      if (ops.get(i) instanceof KernelOp.Connect) {
        lastConnect = i;
      }
    }
    int meta = indexOf(ops, o -> o instanceof KernelOp.DmCreate c && c.name().endsWith("-m0-meta"));
    int raid1 = indexOf(ops, o -> o instanceof KernelOp.DmCreate c && c.name().endsWith("-leg0"));
    int raid0 = indexOf(ops, o -> o instanceof KernelOp.DmCreate c && c.name().equals("toma-vol1"));
    int ns = indexOf(ops, o -> o instanceof KernelOp.NamespaceCreate);
    int anaGroup = indexOf(ops, o -> o instanceof KernelOp.AnaGroupCreate g && g.groupId() == 2);
    int anaState = indexOf(ops, o -> o instanceof KernelOp.AnaGroupSetState s && s.state() == AnaState.OPTIMIZED);
    int link = indexOf(ops, o -> o instanceof KernelOp.PortLinkSubsystem);
    assertTrue(lastConnect < meta && meta < raid1 && raid1 < raid0 && raid0 < ns, ops.toString());
    assertTrue(anaGroup < anaState && anaState < link && ns < link, ops.toString());
    assertEquals(AnaState.OPTIMIZED, node.kernel.read().ports().get(2).anaGroups().get(2));
  }

  @Test
  void deleting_a_volume_takes_it_down_top_down_and_leaves_no_toma_object() throws Exception {
    Node node = new Node(controllerKernel("vol1"));
    node.reconcile(Map.of("vol1", controller("vol1", AnaState.OPTIMIZED)));
    List<KernelOp> ops = node.reconcile(Map.of()); // the fake refuses any wrong order

    int unlink = indexOf(ops, o -> o instanceof KernelOp.PortUnlinkSubsystem);
    int nsRemove = indexOf(ops, o -> o instanceof KernelOp.NamespaceRemove);
    int raid0 = indexOf(ops, o -> o instanceof KernelOp.DmRemove r && r.name().equals("toma-vol1"));
    int raid1 = indexOf(ops, o -> o instanceof KernelOp.DmRemove r && r.name().equals("toma-vol1-leg0"));
    int slice = indexOf(ops, o -> o instanceof KernelOp.DmRemove r && r.name().equals("toma-vol1-m0-data"));
    int disconnect = indexOf(ops, o -> o instanceof KernelOp.Disconnect);
    assertTrue(unlink < nsRemove && nsRemove < raid0 && raid0 < raid1 && raid1 < slice && slice < disconnect,
        ops.toString());
    KernelState after = node.kernel.read();
    assertTrue(after.dmDevices().isEmpty() && after.subsystems().isEmpty() && after.ports().isEmpty()
        && after.controllers().isEmpty() && after.hosts().isEmpty(), after.toString());
  }

  @Test
  void growing_a_slice_reloads_it_and_revalidates_its_export() throws Exception {
    Node node = new Node(new FakeKernel(DISKS));
    node.reconcile(Map.of("vol1", diskNode("vol1", 262144)));
    List<KernelOp> ops = node.reconcile(Map.of("vol1", diskNode("vol1", 524288)));

    assertEquals(List.of(
        new KernelOp.DmReload("toma-vol1-m0", List.of(line(524288, "linear", "@disk:d0 0"))),
        new KernelOp.DmSuspend("toma-vol1-m0", false),
        new KernelOp.DmResume("toma-vol1-m0"),
        new KernelOp.NamespaceRevalidate(sliceNqn("vol1", "m0"), 1)), ops);
    assertEquals(524288, node.kernel.read().dmDevices().get("toma-vol1-m0").table().get(0).length());
  }

  @Test
  void attaching_and_detaching_a_host_changes_only_the_allow_list() throws Exception {
    Node node = new Node(controllerKernel("vol1"));
    DesiredState base = controller("vol1", AnaState.OPTIMIZED);
    node.reconcile(Map.of("vol1", base));
    String second = "nqn.2014-08.org.nvmexpress:uuid:99999999-2222-3333-4444-555555555555";
    DesiredState attached = withAllowedHosts(base, List.of(APP_HOST, second));

    List<KernelOp> attach = node.reconcile(Map.of("vol1", attached));
    assertEquals(List.of(new KernelOp.HostCreate(second),
        new KernelOp.SubsystemAllowHost(volumeNqn("vol1"), second)), attach);

    List<KernelOp> detach = node.reconcile(Map.of("vol1", base));
    assertEquals(List.of(new KernelOp.SubsystemDisallowHost(volumeNqn("vol1"), second),
        new KernelOp.HostRemove(second)), detach);
  }

  @Test
  void an_epoch_rise_that_revokes_the_old_controller_cuts_its_connections_and_flushes_the_slice() throws Exception {
    Node node = new Node(new FakeKernel(DISKS));
    String oldController = CONTROLLER_HOST;
    String newController = Names.NQN_PREFIX + "host:ctrl-b";
    node.reconcile(Map.of("vol1", diskNode("vol1", 262144, 1, List.of(oldController))));

    List<KernelOp> ops = node.reconcile(Map.of("vol1", diskNode("vol1", 262144, 2, List.of(newController))));

    String nqn = sliceNqn("vol1", "m0");
    int disallow = indexOf(ops, o -> o.equals(new KernelOp.SubsystemDisallowHost(nqn, oldController)));
    int unlink = indexOf(ops, o -> o.equals(new KernelOp.PortUnlinkSubsystem(1, nqn)));
    int relink = indexOf(ops, o -> o.equals(new KernelOp.PortLinkSubsystem(1, nqn)));
    int suspend = indexOf(ops, o -> o.equals(new KernelOp.DmSuspend("toma-vol1-m0", false)));
    int resume = indexOf(ops, o -> o.equals(new KernelOp.DmResume("toma-vol1-m0")));
    assertTrue(unlink < disallow && disallow < relink && suspend < resume, ops.toString());
    assertEquals(List.of(), node.reconcile(Map.of("vol1", diskNode("vol1", 262144, 2, List.of(newController)))));
  }

  @Test
  void the_same_epoch_with_a_detached_host_does_not_fence() throws Exception {
    Node node = new Node(new FakeKernel(DISKS));
    node.reconcile(Map.of("vol1", diskNode("vol1", 262144, 1, List.of(CONTROLLER_HOST, APP_HOST))));
    List<KernelOp> ops = node.reconcile(Map.of("vol1", diskNode("vol1", 262144, 1, List.of(CONTROLLER_HOST))));
    assertTrue(ops.stream().noneMatch(o -> o instanceof KernelOp.PortUnlinkSubsystem
        || o instanceof KernelOp.DmSuspend), ops.toString());
  }

  @Test
  void replacing_a_raid1_member_reloads_the_table_with_the_rebuild_slot_it_was_given() throws Exception {
    Node node = new Node(controllerKernel("vol1").exporting(sliceNqn("vol1", "m2"), "0d9a4e55-0000-4000-8000-000000000003"));
    DesiredState base = controller("vol1", AnaState.OPTIMIZED);
    node.reconcile(Map.of("vol1", base));
    String replaced = base.dmDevices().get(4).table().get(0).args()
        .replace("raid1 3 0 region_size 1024", "raid1 5 0 region_size 1024 rebuild 0");
    List<DmDevice> devices = new ArrayList<>(base.dmDevices());
    devices.set(4, new DmDevice("toma-vol1-leg0", List.of(line(253952, "raid", replaced))));
    DesiredState next = new DesiredState("vol1", 1, devices, base.subsystems(), base.ports(), base.connections());

    List<KernelOp> ops = node.reconcile(Map.of("vol1", next));
    assertEquals(List.of(new KernelOp.DmReload("toma-vol1-leg0", List.of(line(253952, "raid", replaced))),
        new KernelOp.DmSuspend("toma-vol1-leg0", false), new KernelOp.DmResume("toma-vol1-leg0")), ops);
  }

  @Test
  void garbage_collection_removes_exactly_the_orphaned_toma_objects() throws Exception {
    FakeKernel kernel = new FakeKernel(DISKS);
    Node node = new Node(kernel);
    node.reconcile(Map.of("vol1", diskNode("vol1", 262144), "vol2", diskNode2("vol2")));
    // foreign objects an operator made by hand: never Toma's
    String foreignNqn = "nqn.2014-08.com.example:backup";
    kernel.applyForeign(new KernelOp.DmCreate("vg0-backup", List.of(line(100, "linear", "/dev/nullb1 0"))));
    kernel.applyForeign(new KernelOp.HostCreate("nqn.2014-08.com.example:host-x"));
    kernel.applyForeign(new KernelOp.SubsystemCreate(foreignNqn, Optional.empty(), Optional.empty()));
    kernel.applyForeign(new KernelOp.SubsystemAllowHost(foreignNqn, "nqn.2014-08.com.example:host-x"));
    kernel.applyForeign(new KernelOp.PortCreate(7, "tcp", "ipv4", "10.0.0.1", 4499));
    kernel.applyForeign(new KernelOp.PortLinkSubsystem(7, foreignNqn));

    // vol2 is forgotten (its Remove was lost); a fresh agent record knows nothing either
    List<KernelOp> ops = Reconciler.diff(Map.of("vol1", diskNode("vol1", 262144)), kernel.read(), DISKS,
        AppliedRecord.empty());
    for (KernelOp op : ops) {
      kernel.apply(op);
    }

    KernelState after = kernel.read();
    assertEquals(List.of("toma-vol1-m0", "vg0-backup"), new ArrayList<>(new TreeMap<>(after.dmDevices()).keySet()));
    assertEquals(List.of(foreignNqn, sliceNqn("vol1", "m0")), new ArrayList<>(new TreeMap<>(after.subsystems()).keySet()));
    assertTrue(after.hosts().contains("nqn.2014-08.com.example:host-x"));
    assertTrue(after.ports().containsKey(7) && after.ports().get(7).subsystems().contains(foreignNqn));
    assertTrue(after.ports().containsKey(1));
    assertFalse(after.ports().containsKey(3), "vol2's port held only Toma subsystems: collected");
    assertTrue(ops.stream().allMatch(o -> o.toString().contains("toma") || o instanceof KernelOp.PortRemove),
        ops.toString());
  }

  @Test
  void two_volumes_share_a_port_and_removing_one_keeps_the_other_exported() throws Exception {
    Node node = new Node(new FakeKernel(DISKS));
    DesiredState a = diskNode("vola", 1000);
    DesiredState b = diskNode("volb", 1000);
    b = new DesiredState("volb", 1, List.of(new DmDevice("toma-volb-m0", List.of(line(1000, "linear", "@disk:d1 0")))),
        List.of(new DesiredState.NvmetSubsystem(sliceNqn("volb", "m0"), List.of(CONTROLLER_HOST),
            List.of(new DesiredState.NvmetNamespace(1, "@dm:toma-volb-m0", M1_UUID, 1, true)),
            Optional.empty(), Optional.empty())),
        List.of(new DesiredState.NvmetPort(1, "tcp", "ipv4", "10.0.0.1", 4420, Map.of(), List.of(sliceNqn("volb", "m0")))),
        List.of());
    node.reconcile(Map.of("vola", a, "volb", b));
    assertEquals(2, node.kernel.read().ports().get(1).subsystems().size());

    node.reconcile(Map.of("volb", b));
    KernelState after = node.kernel.read();
    assertEquals(java.util.Set.of(sliceNqn("volb", "m0")), after.ports().get(1).subsystems());
    assertTrue(after.hosts().contains(CONTROLLER_HOST));
  }

  @Test
  void two_volumes_declaring_one_port_at_two_addresses_are_refused() {
    DesiredState a = diskNode("vola", 1000);
    DesiredState b = diskNode2("volb");
    b = new DesiredState("volb", 1, b.dmDevices(), b.subsystems(),
        List.of(new DesiredState.NvmetPort(1, "tcp", "ipv4", "10.0.0.77", 4420, Map.of(), List.of(sliceNqn("volb", "m0")))),
        List.of());
    DesiredState bb = b;
    KernelException e = assertThrows(KernelException.class,
        () -> Reconciler.diff(Map.of("vola", a, "volb", bb), KernelState.empty(), DISKS));
    assertTrue(e.getMessage().contains("port 1"), e.getMessage());
  }

  @Test
  void a_bad_name_refuses_the_whole_reconcile_before_anything_runs() {
    DesiredState bad = new DesiredState("vol1", 1,
        List.of(new DmDevice("toma-vol1;reboot", List.of(line(10, "linear", "@disk:d0 0")))),
        List.of(), List.of(), List.of());
    FakeKernel kernel = new FakeKernel(DISKS);
    assertThrows(KernelException.class,
        () -> Reconciler.diff(Map.of("vol1", bad, "vol0", diskNode("vol0", 100)), kernel.read(), DISKS));
    assertTrue(kernel.log().isEmpty());
  }

  @Test
  void the_fake_kernel_refuses_removing_a_device_still_exported() throws Exception {
    Node node = new Node(new FakeKernel(DISKS));
    node.reconcile(Map.of("vol1", diskNode("vol1", 1000)));
    KernelException e = assertThrows(KernelException.class,
        () -> node.kernel.apply(new KernelOp.DmRemove("toma-vol1-m0")));
    assertTrue(e.getMessage().contains("busy"));
  }

  /** A second disk-node volume on its own port 3 and disk d1. */
  private static DesiredState diskNode2(String volume) {
    String slice = Names.PREFIX + volume + "-m0";
    String nqn = sliceNqn(volume, "m0");
    return new DesiredState(volume, 1,
        List.of(new DmDevice(slice, List.of(line(1000, "linear", "@disk:d1 0")))),
        List.of(new DesiredState.NvmetSubsystem(nqn, List.of(CONTROLLER_HOST),
            List.of(new DesiredState.NvmetNamespace(1, "@dm:" + slice, M1_UUID, 1, true)),
            Optional.empty(), Optional.empty())),
        List.of(new DesiredState.NvmetPort(3, "tcp", "ipv4", "10.0.0.1", 4421, Map.of(), List.of(nqn))),
        List.of());
  }

  private static DesiredState withAllowedHosts(DesiredState d, List<String> hosts) {
    var s = d.subsystems().get(0);
    return new DesiredState(d.volumeId(), d.epoch(), d.dmDevices(),
        List.of(new DesiredState.NvmetSubsystem(s.nqn(), hosts, s.namespaces(), s.cntlidMin(), s.cntlidMax())),
        d.ports(), d.connections());
  }

  @Test
  void an_application_host_connected_on_the_same_machine_is_not_cut_by_garbage_collection() throws Exception {
    FakeKernel kernel = controllerKernel("vol1").exporting(volumeNqn("vol7"), VOL_UUID)
        .exporting(sliceNqn("old", "m0"), M1_UUID);
    kernel.applyForeign(new KernelOp.Connect(new DesiredState.FabricConnection(volumeNqn("vol7"), "tcp",
        "10.0.0.9", 4430, APP_HOST, legTimeouts())));
    kernel.applyForeign(new KernelOp.Connect(new DesiredState.FabricConnection(sliceNqn("old", "m0"), "tcp",
        "10.0.0.1", 4420, CONTROLLER_HOST, legTimeouts())));
    List<KernelOp> ops = Reconciler.diff(Map.of(), kernel.read(), DISKS);
    assertEquals(List.of(new KernelOp.Disconnect(sliceNqn("old", "m0"))), ops);
  }

  @Test
  void a_fencing_apply_cut_short_after_the_unlink_still_revokes_and_relinks_when_retried() throws Exception {
    Node node = new Node(new FakeKernel(DISKS));
    String newController = Names.NQN_PREFIX + "host:ctrl-b";
    node.reconcile(Map.of("vol1", diskNode("vol1", 262144, 1, List.of(CONTROLLER_HOST))));
    Map<String, DesiredState> fenced = Map.of("vol1", diskNode("vol1", 262144, 2, List.of(newController)));
    node.kernel.failAtCall(2); // the unlink runs, then the agent dies
    assertThrows(KernelException.class, () -> node.reconcile(fenced));

    List<KernelOp> retry = node.reconcile(fenced);
    String nqn = sliceNqn("vol1", "m0");
    assertTrue(retry.contains(new KernelOp.SubsystemDisallowHost(nqn, CONTROLLER_HOST)), retry.toString());
    assertTrue(retry.contains(new KernelOp.PortLinkSubsystem(1, nqn)), retry.toString());
    KernelState after = node.kernel.read();
    assertEquals(java.util.Set.of(newController), after.subsystems().get(nqn).allowedHosts());
    assertTrue(after.ports().get(1).subsystems().contains(nqn));
  }
}
