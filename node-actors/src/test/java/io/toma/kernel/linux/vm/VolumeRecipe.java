package io.toma.kernel.linux.vm;

import io.toma.kernel.DesiredState;
import io.toma.kernel.DesiredState.AnaState;
import io.toma.kernel.DesiredState.ConnectTimeouts;
import io.toma.kernel.DesiredState.DmDevice;
import io.toma.kernel.DesiredState.DmTableLine;
import io.toma.kernel.DesiredState.FabricConnection;
import io.toma.kernel.DesiredState.NvmetNamespace;
import io.toma.kernel.DesiredState.NvmetPort;
import io.toma.kernel.DesiredState.NvmetSubsystem;
import io.toma.kernel.Names;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;
import java.util.UUID;

/**
 * The desired state of every node one placed volume touches, for the real-kernel scenarios.
 * node-actors cannot depend on topology-manager, so this test-scope twin follows its
 * {@code DesiredStateBuilder} and {@code VolumeNames}: the same names ({@code toma-<vol>},
 * {@code -l<leg>}, {@code -l<leg>r<replica>[-meta|-data]}, {@code nqn.2026-11.io.toma:<vol>[.tag]}),
 * the same member uuids (name-based on volume, tag, disk and offset), the same tables
 * (kernel-recipes.md: slices, meta+data over each member namespace, raid1 with metadata, striped
 * over the legs, {@code error} placeholder on a standby), the same leg timeouts (fast_io_fail 0).
 * Two differences, both because several disk nodes share one test kernel: each disk node has its
 * own nvmet port id and service id (the builder uses port 1 / 4420 on every node's own address),
 * and a member being rebuilt gets {@code rebuild <slot>} in its leg's table (a replacement keeps
 * its tag, hence its devices' names: without the flag the leg's table does not change and dm-raid
 * never takes the new member, as the real-kernel scenario shows).
 */
public record VolumeRecipe(
    String volumeId,
    long epoch,
    int legs,
    long legDataBytes,
    List<Member> members,
    List<Controller> controllers,
    List<String> attachments,
    String namespaceUuid) {

  public static final long SECTOR = 512;
  public static final long META_SECTORS = 8192;
  public static final int STRIPE_CHUNK_SECTORS = 128;
  public static final int REGION_SECTORS = 1024;
  public static final ConnectTimeouts LEG_TIMEOUTS = new ConnectTimeouts(5, 10, 1, Optional.of(0));

  public VolumeRecipe {
    members = List.copyOf(members);
    controllers = List.copyOf(controllers);
    attachments = List.copyOf(attachments);
  }

  /** A disk node: its disk, the address and nvmet port its slices are exported on. */
  public record DiskNode(String nodeId, String diskId, String address, int portId, int serviceId) {}

  /** One member of one leg: an extent of a disk node's disk; {@code rebuilding} adds rebuild. */
  public record Member(int leg, int replica, DiskNode node, long offsetBytes, boolean rebuilding) {
    public String tag() {
      return "l" + leg + "r" + replica;
    }
  }

  /** A controller: active or standby, its host NQN, export port, ANA group, cntlid range. */
  public record Controller(String nodeId, boolean active, String address, String hostNqn, int serviceId,
      int anaGroup, int cntlidMin, int cntlidMax) {}

  public VolumeRecipe withEpoch(long newEpoch) {
    return new VolumeRecipe(volumeId, newEpoch, legs, legDataBytes, members, controllers, attachments, namespaceUuid);
  }

  public VolumeRecipe withMembers(List<Member> newMembers) {
    return new VolumeRecipe(volumeId, epoch, legs, legDataBytes, newMembers, controllers, attachments, namespaceUuid);
  }

  public VolumeRecipe withControllers(List<Controller> newControllers) {
    return new VolumeRecipe(volumeId, epoch, legs, legDataBytes, members, newControllers, attachments, namespaceUuid);
  }

  // ---- names (VolumeNames) ----

  public String volumeDm() {
    return Names.PREFIX + volumeId;
  }

  public String legDm(int leg) {
    return Names.PREFIX + volumeId + "-l" + leg;
  }

  public String sliceDm(Member m) {
    return Names.PREFIX + volumeId + "-" + m.tag();
  }

  public String metaDm(Member m) {
    return Names.PREFIX + volumeId + "-" + m.tag() + "-meta";
  }

  public String dataDm(Member m) {
    return Names.PREFIX + volumeId + "-" + m.tag() + "-data";
  }

  public String volumeNqn() {
    return Names.NQN_PREFIX + volumeId;
  }

  public String memberNqn(Member m) {
    return Names.NQN_PREFIX + volumeId + "." + m.tag();
  }

  public String memberUuid(Member m) {
    String key = "toma:" + volumeId + ":" + m.tag() + ":" + m.node().diskId() + ":" + m.offsetBytes();
    return UUID.nameUUIDFromBytes(key.getBytes(StandardCharsets.UTF_8)).toString();
  }

  // ---- sizes (VolumeGeometry) ----

  public long extentSectors() {
    return META_SECTORS + legDataSectors();
  }

  public long legDataSectors() {
    return legDataBytes / SECTOR;
  }

  public long volumeSectors() {
    return legDataSectors() * legs;
  }

  // ---- desired states (DesiredStateBuilder) ----

  /** What the given disk node must hold for this volume (empty when it holds no member). */
  public DesiredState diskNode(DiskNode node) {
    List<String> controllerHosts = controllers.stream().map(Controller::hostNqn).sorted().distinct().toList();
    List<DmDevice> dm = new ArrayList<>();
    List<NvmetSubsystem> subsystems = new ArrayList<>();
    List<String> linked = new ArrayList<>();
    for (Member m : sortedMembers()) {
      if (!m.node().equals(node)) {
        continue;
      }
      dm.add(new DmDevice(sliceDm(m), List.of(new DmTableLine(0, extentSectors(), "linear",
          "@disk:" + node.diskId() + " " + m.offsetBytes() / SECTOR))));
      subsystems.add(new NvmetSubsystem(memberNqn(m), controllerHosts,
          List.of(new NvmetNamespace(1, "@dm:" + sliceDm(m), memberUuid(m), 1, true)), Optional.empty(), Optional.empty()));
      linked.add(memberNqn(m));
    }
    List<NvmetPort> ports = linked.isEmpty() ? List.of()
        : List.of(new NvmetPort(node.portId(), "tcp", "ipv4", node.address(), node.serviceId(), Map.of(), linked));
    return new DesiredState(volumeId, epoch, dm, subsystems, ports, List.of());
  }

  /** What the given controller node must hold: the whole stack (active) or the placeholder. */
  public DesiredState controller(String nodeId) {
    Optional<Controller> found = controllers.stream().filter(c -> c.nodeId().equals(nodeId)).findFirst();
    if (found.isEmpty()) {
      return DesiredState.empty(volumeId, epoch);
    }
    Controller c = found.get();
    List<DmDevice> dm = new ArrayList<>();
    List<FabricConnection> connections = new ArrayList<>();
    if (c.active()) {
      for (Member m : sortedMembers()) {
        connections.add(new FabricConnection(memberNqn(m), "tcp", m.node().address(), m.node().serviceId(),
            c.hostNqn(), LEG_TIMEOUTS));
        String ns = "@ns:" + memberUuid(m);
        dm.add(new DmDevice(metaDm(m), List.of(new DmTableLine(0, META_SECTORS, "linear", ns + " 0"))));
        dm.add(new DmDevice(dataDm(m), List.of(new DmTableLine(0, legDataSectors(), "linear", ns + " " + META_SECTORS))));
      }
      List<String> legDevices = new ArrayList<>();
      for (int leg = 0; leg < legs; leg++) {
        dm.add(new DmDevice(legDm(leg), List.of(legTable(leg))));
        legDevices.add("@dm:" + legDm(leg));
      }
      dm.add(new DmDevice(volumeDm(), List.of(topTable(legDevices))));
    } else {
      dm.add(new DmDevice(volumeDm(), List.of(new DmTableLine(0, volumeSectors(), "error", ""))));
    }
    List<NvmetSubsystem> subsystems = List.of();
    List<NvmetPort> ports = List.of();
    if (!attachments.isEmpty()) {
      subsystems = List.of(new NvmetSubsystem(volumeNqn(), attachments.stream().sorted().toList(),
          List.of(new NvmetNamespace(1, "@dm:" + volumeDm(), namespaceUuid, c.anaGroup(), true)),
          Optional.of(c.cntlidMin()), Optional.of(c.cntlidMax())));
      ports = List.of(new NvmetPort(c.serviceId(), "tcp", "ipv4", c.address(), c.serviceId(),
          Map.of(c.anaGroup(), c.active() ? AnaState.OPTIMIZED : AnaState.INACCESSIBLE), List.of(volumeNqn())));
    }
    return new DesiredState(volumeId, epoch, dm, subsystems, ports, connections);
  }

  /**
   * raid1 with metadata devices (kernel-recipes): {@code raid1 <#params> 0 region_size 1024
   * [rebuild <slot>]... <#devs> meta data ...}; one member makes a linear over its data.
   */
  public DmTableLine legTable(int leg) {
    List<Member> legMembers = sortedMembers().stream().filter(m -> m.leg() == leg).toList();
    if (legMembers.size() == 1) {
      return new DmTableLine(0, legDataSectors(), "linear", "@dm:" + dataDm(legMembers.get(0)) + " 0");
    }
    List<String> params = new ArrayList<>(List.of("0", "region_size", Integer.toString(REGION_SECTORS)));
    for (int slot = 0; slot < legMembers.size(); slot++) {
      if (legMembers.get(slot).rebuilding()) {
        params.addAll(List.of("rebuild", Integer.toString(slot)));
      }
    }
    StringBuilder args = new StringBuilder("raid1 " + params.size() + " " + String.join(" ", params) + " " + legMembers.size());
    for (Member m : legMembers) {
      args.append(" @dm:").append(metaDm(m)).append(" @dm:").append(dataDm(m));
    }
    return new DmTableLine(0, legDataSectors(), "raid", args.toString());
  }

  private DmTableLine topTable(List<String> legDevices) {
    if (legDevices.size() == 1) {
      return new DmTableLine(0, volumeSectors(), "linear", legDevices.get(0) + " 0");
    }
    StringBuilder args = new StringBuilder(legDevices.size() + " " + STRIPE_CHUNK_SECTORS);
    for (String dev : legDevices) {
      args.append(' ').append(dev).append(" 0");
    }
    return new DmTableLine(0, volumeSectors(), "striped", args.toString());
  }

  private List<Member> sortedMembers() {
    List<Member> sorted = new ArrayList<>(members);
    sorted.sort(Comparator.comparingInt(Member::leg).thenComparingInt(Member::replica));
    return sorted;
  }

  /** Desired states of every disk node, keyed "node/volume" as one test kernel holds them. */
  public Map<String, DesiredState> diskNodes(List<DiskNode> nodes) {
    Map<String, DesiredState> out = new TreeMap<>();
    for (DiskNode n : nodes) {
      DesiredState d = diskNode(n);
      if (!d.dmDevices().isEmpty()) {
        out.put(n.nodeId() + "." + volumeId, d);
      }
    }
    return out;
  }
}
