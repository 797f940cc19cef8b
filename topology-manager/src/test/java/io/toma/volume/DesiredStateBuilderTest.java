package io.toma.volume;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.toma.kernel.DesiredState;
import io.toma.kernel.DesiredState.AnaState;
import io.toma.kernel.DesiredState.DmDevice;
import io.toma.kernel.DesiredState.NvmetSubsystem;
import io.toma.topology.ControllerPlacement;
import io.toma.topology.ControllerRole;
import io.toma.topology.ReplicaPlacement;
import io.toma.topology.VolumePlacement;
import io.toma.topology.VolumeSpec;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.Test;

class DesiredStateBuilderTest {

  static final long GIB = VolumeSpec.GIB;
  static final String HOST = "nqn.2014-08.org.nvmexpress:uuid:host-1";

  /** 2 legs x 2 replicas on disk nodes d1..d4, active on c1, standby on c2. */
  static VolumeDesign design(String volume, int legs, int replicas, List<String> attachments) {
    VolumeGeometry g = VolumeGeometry.of(8 * GIB, legs);
    List<ReplicaPlacement> members = new ArrayList<>();
    int n = 0;
    for (int leg = 0; leg < legs; leg++) {
      for (int r = 0; r < replicas; r++) {
        n++;
        members.add(new ReplicaPlacement(leg, r, "disk" + n, "d" + n, "r" + n, "z1", "10.0.0." + n,
            (long) n * 1024 * 1024 * 1024, g.extentBytes()));
      }
    }
    List<ControllerPlacement> controllers = List.of(
        new ControllerPlacement("c1", ControllerRole.ACTIVE, "10.0.1.1", "nqn.2026-11.io.toma:host:c1", 4430, 2, 1, 1000),
        new ControllerPlacement("c2", ControllerRole.STANDBY, "10.0.1.2", "nqn.2026-11.io.toma:host:c2", 4431, 2, 1001, 2000));
    return new VolumeDesign(volume, 1, g, replicas, "6f1c2a3b-0000-4000-8000-000000000001",
        new VolumePlacement(members, controllers), attachments);
  }

  static DmDevice dm(DesiredState state, String name) {
    return state.dmDevices().stream().filter(d -> d.name().equals(name)).findFirst().orElseThrow(
        () -> new AssertionError("no dm device " + name + " in " + state.dmDevices()));
  }

  @Test
  void aDiskNodeSlicesItsDiskWithDmLinearAndExportsTheSliceToTheControllersOnly() {
    Map<String, DesiredState> states = DesiredStateBuilder.build(design("vol1", 2, 2, List.of(HOST)));
    DesiredState d1 = states.get("d1");
    DmDevice slice = dm(d1, "toma-vol1-l0r0");
    VolumeGeometry g = VolumeGeometry.of(8 * GIB, 2);
    assertEquals(1, slice.table().size());
    assertEquals(0, slice.table().get(0).start());
    assertEquals(g.extentSectors(), slice.table().get(0).length());
    assertEquals("linear", slice.table().get(0).target());
    assertEquals("@disk:disk1 " + (1024L * 1024 * 1024 / 512), slice.table().get(0).args());

    NvmetSubsystem sub = d1.subsystems().get(0);
    assertEquals("nqn.2026-11.io.toma:vol1.l0r0", sub.nqn());
    assertEquals(List.of("nqn.2026-11.io.toma:host:c1", "nqn.2026-11.io.toma:host:c2"), sub.allowedHosts());
    assertEquals("@dm:toma-vol1-l0r0", sub.namespaces().get(0).devicePath());
    assertEquals(1, sub.namespaces().get(0).nsid());
    DesiredState.NvmetPort port = d1.ports().get(0);
    assertEquals(1, port.portId());
    assertEquals(4420, port.serviceId());
    assertEquals("10.0.0.1", port.address());
    assertEquals(List.of("nqn.2026-11.io.toma:vol1.l0r0"), port.subsystems());
    assertTrue(d1.connections().isEmpty(), "a disk node connects to nothing");
  }

  @Test
  void theActiveControllerMirrorsEachLegWithRaid1AndMetadataAndStripesTheLegs() {
    DesiredState c1 = DesiredStateBuilder.build(design("vol1", 2, 2, List.of(HOST))).get("c1");
    VolumeGeometry g = VolumeGeometry.of(8 * GIB, 2);
    long data = g.legDataSectors();

    assertEquals(4, c1.connections().size());
    DesiredState.FabricConnection first = c1.connections().get(0);
    assertEquals("nqn.2026-11.io.toma:vol1.l0r0", first.subsystemNqn());
    assertEquals("10.0.0.1", first.address());
    assertEquals(4420, first.serviceId());
    assertEquals("nqn.2026-11.io.toma:host:c1", first.hostNqn());
    assertEquals(Optional.of(0), first.timeouts().fastIoFail(), "leg connections fail fast");

    String uuid = c1.connections().isEmpty() ? "" : VolumeNames.memberUuid("vol1",
        design("vol1", 2, 2, List.of(HOST)).placement().replicas().get(0));
    DmDevice meta = dm(c1, "toma-vol1-l0r0-meta");
    assertEquals(new DesiredState.DmTableLine(0, 8192, "linear", "@ns:" + uuid + " 0"), meta.table().get(0));
    DmDevice dataSlice = dm(c1, "toma-vol1-l0r0-data");
    assertEquals(new DesiredState.DmTableLine(0, data, "linear", "@ns:" + uuid + " 8192"), dataSlice.table().get(0));

    DmDevice leg0 = dm(c1, "toma-vol1-l0");
    assertEquals(new DesiredState.DmTableLine(0, data, "raid",
        "raid1 3 0 region_size 1024 2 @dm:toma-vol1-l0r0-meta @dm:toma-vol1-l0r0-data"
            + " @dm:toma-vol1-l0r1-meta @dm:toma-vol1-l0r1-data"), leg0.table().get(0));
    // the parameter count matches the parameters that follow it
    String[] words = leg0.table().get(0).args().split(" ");
    int count = Integer.parseInt(words[1]);
    assertEquals("2", words[2 + count], "device count follows exactly " + count + " parameters");

    DmDevice top = dm(c1, "toma-vol1");
    assertEquals(new DesiredState.DmTableLine(0, 2 * data, "striped", "2 128 @dm:toma-vol1-l0 0 @dm:toma-vol1-l1 0"),
        top.table().get(0));
    assertTrue(2 * data * 512 >= 8 * GIB, "the volume is at least the size asked for");

    NvmetSubsystem sub = c1.subsystems().stream().filter(s -> s.nqn().equals("nqn.2026-11.io.toma:vol1")).findFirst().orElseThrow();
    assertEquals(List.of(HOST), sub.allowedHosts());
    assertEquals("@dm:toma-vol1", sub.namespaces().get(0).devicePath());
    assertEquals("6f1c2a3b-0000-4000-8000-000000000001", sub.namespaces().get(0).deviceUuid());
    assertEquals(2, sub.namespaces().get(0).anaGroupId());
    assertEquals(Optional.of(1), sub.cntlidMin());
    assertEquals(Optional.of(1000), sub.cntlidMax());
    DesiredState.NvmetPort port = c1.ports().get(0);
    assertEquals(4430, port.serviceId());
    assertEquals(Map.of(2, AnaState.OPTIMIZED), port.anaGroups());
  }

  @Test
  void theDeviceOrderIsBottomUpSoAnAgentCanCreateInListOrder() {
    DesiredState c1 = DesiredStateBuilder.build(design("vol1", 2, 2, List.of(HOST))).get("c1");
    List<String> names = c1.dmDevices().stream().map(DmDevice::name).toList();
    for (DmDevice device : c1.dmDevices()) {
      for (String word : device.table().get(0).args().split(" ")) {
        if (word.startsWith("@dm:")) {
          assertTrue(names.indexOf(word.substring(4)) < names.indexOf(device.name()),
              word + " comes before " + device.name());
        }
      }
    }
  }

  @Test
  void aStandbyExportsTheSameNqnAndNamespaceOverAnErrorDeviceInaccessible() {
    Map<String, DesiredState> states = DesiredStateBuilder.build(design("vol1", 2, 2, List.of(HOST)));
    DesiredState c1 = states.get("c1");
    DesiredState c2 = states.get("c2");
    DmDevice placeholder = dm(c2, "toma-vol1");
    assertEquals("error", placeholder.table().get(0).target());
    assertEquals(dm(c1, "toma-vol1").table().get(0).length(), placeholder.table().get(0).length());
    NvmetSubsystem standby = c2.subsystems().get(0);
    NvmetSubsystem active = c1.subsystems().stream().filter(s -> s.nqn().equals(standby.nqn())).findFirst().orElseThrow();
    assertEquals(active.namespaces().get(0).deviceUuid(), standby.namespaces().get(0).deviceUuid());
    assertEquals(Map.of(2, AnaState.INACCESSIBLE), c2.ports().get(0).anaGroups());
    assertTrue(c2.connections().isEmpty(), "a standby holds the path, not the legs");
    assertFalse(standby.cntlidMin().equals(active.cntlidMin()), "controller id ranges never collide");
  }

  @Test
  void noAllowListIsEverEmptyAndAnUnattachedVolumeIsNotExported() {
    for (List<String> attachments : List.of(List.<String>of(), List.of(HOST))) {
      Map<String, DesiredState> states = DesiredStateBuilder.build(design("vol1", 2, 3, attachments));
      for (DesiredState state : states.values()) {
        for (NvmetSubsystem sub : state.subsystems()) {
          assertFalse(sub.allowedHosts().isEmpty(), "allow-list of " + sub.nqn());
          assertFalse(sub.allowedHosts().contains("*"));
        }
      }
      boolean exported = states.get("c1").subsystems().stream().anyMatch(s -> s.nqn().equals("nqn.2026-11.io.toma:vol1"));
      assertEquals(!attachments.isEmpty(), exported);
    }
  }

  @Test
  void oneReplicaPerLegMakesALinearLegAndOneLegALinearVolume() {
    DesiredState c1 = DesiredStateBuilder.build(design("solo", 1, 1, List.of(HOST))).get("c1");
    assertEquals("linear", dm(c1, "toma-solo-l0").table().get(0).target());
    assertEquals("@dm:toma-solo-l0r0-data 0", dm(c1, "toma-solo-l0").table().get(0).args());
    assertEquals("linear", dm(c1, "toma-solo").table().get(0).target());
  }

  @Test
  void everyNameCarriesTheTomaPrefixAndStaysWithinKernelLimits() {
    String longest = "v" + "x".repeat(62);
    assertTrue(new VolumeSpec(longest, GIB, io.toma.topology.Layout.of(16, 3, 4, io.toma.topology.FailureDomainLevel.NODE))
        .validate().isEmpty());
    for (DesiredState state : DesiredStateBuilder.build(design(longest, 4, 3, List.of(HOST))).values()) {
      for (DmDevice d : state.dmDevices()) {
        assertTrue(d.name().startsWith("toma-"));
        assertTrue(d.name().getBytes(StandardCharsets.UTF_8).length <= 127, d.name());
      }
      for (NvmetSubsystem s : state.subsystems()) {
        assertTrue(s.nqn().startsWith("nqn.2026-11.io.toma:"));
        assertTrue(s.nqn().getBytes(StandardCharsets.UTF_8).length <= 223, s.nqn());
      }
    }
    assertTrue(new VolumeSpec("Bad_Name", GIB, io.toma.topology.Layout.of(1, 1, 0, io.toma.topology.FailureDomainLevel.NODE))
        .validate().isPresent());
  }

  @Test
  void aVolumeTouchingANodeTwiceGivesThatNodeOneMergedState() {
    VolumeDesign d = design("vol1", 2, 2, List.of(HOST));
    // put leg 1's first member on the active controller's node
    List<ReplicaPlacement> members = new ArrayList<>(d.placement().replicas());
    ReplicaPlacement m = members.get(2);
    members.set(2, new ReplicaPlacement(m.leg(), m.replica(), m.diskId(), "c1", m.rack(), m.zone(), "10.0.1.1",
        m.offsetBytes(), m.lengthBytes()));
    VolumeDesign merged = new VolumeDesign(d.volumeId(), d.epoch(), d.geometry(), d.replicasPerLeg(), d.namespaceUuid(),
        new VolumePlacement(members, d.placement().controllers()), d.attachments());
    DesiredState c1 = DesiredStateBuilder.build(merged).get("c1");
    assertEquals(2, c1.ports().size(), "disk port and controller port");
    dm(c1, "toma-vol1-l1r0");
    dm(c1, "toma-vol1");
  }
}
