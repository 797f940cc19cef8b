package io.toma.volume;

import io.toma.kernel.DesiredState;
import io.toma.kernel.DesiredState.AnaState;
import io.toma.kernel.DesiredState.ConnectTimeouts;
import io.toma.kernel.DesiredState.DmDevice;
import io.toma.kernel.DesiredState.DmTableLine;
import io.toma.kernel.DesiredState.FabricConnection;
import io.toma.kernel.DesiredState.NvmetNamespace;
import io.toma.kernel.DesiredState.NvmetPort;
import io.toma.kernel.DesiredState.NvmetSubsystem;
import io.toma.topology.ControllerPlacement;
import io.toma.topology.ControllerRole;
import io.toma.topology.ReplicaPlacement;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;
import java.util.TreeSet;

/**
 * Derives, from a placed volume, the exact kernel objects each node it touches must hold (pure).
 * Disk nodes: one dm-linear slice per member, exported in its own subsystem to the controllers'
 * host NQNs only. Active controller: a fail-fast connection per member, meta and data slices over
 * each member's namespace, a raid1 per leg (with metadata devices), raid0 (or linear) over the
 * legs, exported ANA optimized. Standby: the same NQN and namespace uuid over an {@code error}
 * device of the same size, ANA inaccessible.
 */
public final class DesiredStateBuilder {

  public static final int DISK_PORT_ID = 1;
  public static final int DISK_SERVICE_ID = 4420;
  public static final String TRANSPORT = "tcp";
  public static final String ADDRESS_FAMILY = "ipv4";
  /** Namespaces of leg members sit in nvmet's default ANA group. */
  public static final int MEMBER_ANA_GROUP = 1;
  /**
   * Leg members fail fast (kernel-recipes: fast_io_fail_tmo=0 made a dead member stall writes
   * ~0.6 s instead of ~5.7 s) with a short controller-loss timeout.
   */
  // ctrl-loss (30 s) outlasts the grace window (10 s) with room: a member cut off stays a connection
  // the kernel keeps retrying, so the revision that re-adds it or gives it up (its devices stay
  // until the replacement is in sync) needs no new connect over the cut link, which would fail the
  // whole apply. I/O still fails fast (fast_io_fail 0).
  public static final ConnectTimeouts LEG_TIMEOUTS = new ConnectTimeouts(5, 30, 1, Optional.of(0));

  private DesiredStateBuilder() {}

  /** The desired state of every node the volume touches, keyed and sorted by node id. */
  public static Map<String, DesiredState> build(VolumeDesign design) {
    Map<String, NodeAccumulator> nodes = new TreeMap<>();
    List<ControllerPlacement> controllers = design.placement().controllers();
    List<String> controllerHosts =
        List.copyOf(new TreeSet<>(controllers.stream().map(ControllerPlacement::hostNqn).toList()));
    List<ReplicaPlacement> members = new ArrayList<>(design.placement().replicas());
    members.sort(Comparator.comparingInt(ReplicaPlacement::leg).thenComparingInt(ReplicaPlacement::replica));

    List<ReplicaPlacement> withRetired = new ArrayList<>(members);
    withRetired.addAll(design.retired());
    for (ReplicaPlacement member : withRetired) {
      if (!design.deadNodes().contains(member.nodeId())) {
        addDiskSide(nodes.computeIfAbsent(member.nodeId(), NodeAccumulator::new), design, member, controllerHosts);
      }
    }
    for (ControllerPlacement controller : controllers) {
      NodeAccumulator node = nodes.computeIfAbsent(controller.nodeId(), NodeAccumulator::new);
      if (controller.role() == ControllerRole.ACTIVE) {
        addActive(node, design, controller, members, withRetired);
      } else {
        addStandby(node, design, controller);
      }
    }
    Map<String, DesiredState> result = new LinkedHashMap<>();
    nodes.forEach((nodeId, acc) -> result.put(nodeId, acc.build(design.volumeId(), design.epoch())));
    return result;
  }

  private static void addDiskSide(
      NodeAccumulator node, VolumeDesign design, ReplicaPlacement member, List<String> controllerHosts) {
    String volume = design.volumeId();
    String slice = VolumeNames.sliceDm(volume, member.tag());
    // The slice follows the member's extent, which an online grow lengthens before the stack.
    long sectors = member.lengthBytes() / VolumeGeometry.SECTOR;
    // Its metadata area is zeroed when the disk node first makes it: the extent may have been
    // another array's member, whose dm-raid superblock the new array must not find.
    node.dm.add(new DmDevice(slice, List.of(
        new DmTableLine(0, sectors, "linear", "@disk:" + member.diskId() + " " + member.offsetBytes() / VolumeGeometry.SECTOR)),
        VolumeGeometry.META_SECTORS));
    String nqn = VolumeNames.memberNqn(volume, member.tag());
    node.subsystems.add(new NvmetSubsystem(
        nqn,
        controllerHosts,
        List.of(new NvmetNamespace(1, "@dm:" + slice, VolumeNames.memberUuid(volume, member), MEMBER_ANA_GROUP, true)),
        Optional.empty(),
        Optional.empty()));
    node.linkToPort(DISK_PORT_ID, member.fabricAddress(), DISK_SERVICE_ID, Map.of(), nqn);
  }

  private static void addActive(NodeAccumulator node, VolumeDesign design, ControllerPlacement active,
      List<ReplicaPlacement> members, List<ReplicaPlacement> withRetired) {
    String volume = design.volumeId();
    VolumeGeometry g = design.geometry();
    long data = g.legDataSectors();
    // Lost and retired members keep their connection and meta/data devices (what the kernel
    // already holds costs no operation); only the raid1 tables stop using them.
    // (Members on lost nodes are left out: a freshly promoted controller could not connect to
    // them. For a surviving active that drops them, the agent must reload the raid1 table before
    // removing their devices.)
    for (ReplicaPlacement member : withRetired) {
      if (design.deadNodes().contains(member.nodeId())) {
        continue;
      }
      node.connections.add(new FabricConnection(
          VolumeNames.memberNqn(volume, member.tag()), TRANSPORT, member.fabricAddress(), DISK_SERVICE_ID,
          active.hostNqn(), LEG_TIMEOUTS));
      String ns = "@ns:" + VolumeNames.memberUuid(volume, member);
      node.dm.add(new DmDevice(VolumeNames.memberMetaDm(volume, member.tag()), List.of(
          new DmTableLine(0, VolumeGeometry.META_SECTORS, "linear", ns + " 0"))));
      node.dm.add(new DmDevice(VolumeNames.memberDataDm(volume, member.tag()), List.of(
          new DmTableLine(0, data, "linear", ns + " " + VolumeGeometry.META_SECTORS))));
    }
    List<String> legDevices = new ArrayList<>();
    for (int leg = 0; leg < g.legs(); leg++) {
      final int legIndex = leg;
      List<ReplicaPlacement> legMembers = members.stream().filter(m -> m.leg() == legIndex).toList();
      String legDm = VolumeNames.legDm(volume, leg);
      node.dm.add(new DmDevice(legDm, List.of(legTable(volume, data, legMembers, design.missingTags(),
          design.rebuildingTags()))));
      legDevices.add("@dm:" + legDm);
    }
    String top = VolumeNames.volumeDm(volume);
    node.dm.add(new DmDevice(top, List.of(topTable(g, legDevices))));
    exportVolume(node, design, active, "@dm:" + top, AnaState.OPTIMIZED);
  }

  /**
   * raid1 with metadata devices: {@code raid raid1 3 0 region_size 1024 <n> meta data ...}; the
   * 3 counts the parameters that follow it (chunk size 0, region_size and its value). One member
   * (replicas = 1) cannot make a raid1: the leg is then a linear over that member's data.
   */
  static DmTableLine legTable(String volume, long dataSectors, List<ReplicaPlacement> legMembers) {
    return legTable(volume, dataSectors, legMembers, java.util.Set.of(), java.util.Set.of());
  }

  /**
   * As above, with lost members as "- -" (dm-raid's missing device; the slot keeps its place) and
   * {@code rebuild <slot>} for each replacement not yet in sync (kernel-recipes: a new member
   * needs it, or dm-raid refuses the table).
   */
  static DmTableLine legTable(String volume, long dataSectors, List<ReplicaPlacement> legMembers,
      java.util.Set<String> missing, java.util.Set<String> rebuilding) {
    if (legMembers.size() == 1) {
      return new DmTableLine(0, dataSectors, "linear",
          "@dm:" + VolumeNames.memberDataDm(volume, legMembers.get(0).tag()) + " 0");
    }
    List<Integer> rebuildSlots = new ArrayList<>();
    for (int slot = 0; slot < legMembers.size(); slot++) {
      if (rebuilding.contains(legMembers.get(slot).tag())) {
        rebuildSlots.add(slot);
      }
    }
    StringBuilder params = new StringBuilder("0");
    rebuildSlots.forEach(slot -> params.append(" rebuild ").append(slot));
    params.append(" region_size ").append(VolumeGeometry.REGION_SECTORS);
    int count = 3 + 2 * rebuildSlots.size();
    StringBuilder args = new StringBuilder("raid1 " + count + " " + params + " " + legMembers.size());
    for (ReplicaPlacement m : legMembers) {
      if (missing.contains(m.tag())) {
        args.append(" - -");
      } else {
        args.append(" @dm:").append(VolumeNames.memberMetaDm(volume, m.tag()))
            .append(" @dm:").append(VolumeNames.memberDataDm(volume, m.tag()));
      }
    }
    return new DmTableLine(0, dataSectors, "raid", args.toString());
  }

  /** raid0 over the legs ({@code striped <legs> 128 dev 0 ...}), or a linear over the one leg. */
  static DmTableLine topTable(VolumeGeometry g, List<String> legDevices) {
    if (legDevices.size() == 1) {
      return new DmTableLine(0, g.volumeSectors(), "linear", legDevices.get(0) + " 0");
    }
    StringBuilder args = new StringBuilder(legDevices.size() + " " + VolumeGeometry.STRIPE_CHUNK_SECTORS);
    for (String dev : legDevices) {
      args.append(' ').append(dev).append(" 0");
    }
    return new DmTableLine(0, g.volumeSectors(), "striped", args.toString());
  }

  private static void addStandby(NodeAccumulator node, VolumeDesign design, ControllerPlacement standby) {
    String top = VolumeNames.volumeDm(design.volumeId());
    node.dm.add(new DmDevice(top, List.of(new DmTableLine(0, design.geometry().volumeSectors(), "error", ""))));
    exportVolume(node, design, standby, "@dm:" + top, AnaState.INACCESSIBLE);
  }

  /**
   * The volume subsystem on a controller, on the controller's own port with its ANA group. With
   * no host attached nothing is exported: an allow-list is never empty and never "any host".
   */
  private static void exportVolume(
      NodeAccumulator node, VolumeDesign design, ControllerPlacement controller, String device, AnaState ana) {
    if (design.attachments().isEmpty()) {
      return;
    }
    String nqn = VolumeNames.volumeNqn(design.volumeId());
    node.subsystems.add(new NvmetSubsystem(
        nqn,
        List.copyOf(new TreeSet<>(design.attachments())),
        List.of(new NvmetNamespace(1, device, design.namespaceUuid(), controller.anaGroup(), true)),
        Optional.of(controller.cntlidMin()),
        Optional.of(controller.cntlidMax())));
    node.linkToPort(controller.serviceId(), controller.fabricAddress(), controller.serviceId(),
        Map.of(controller.anaGroup(), ana), nqn);
  }

  /** The objects of one node, in creation order (lower devices first). */
  private static final class NodeAccumulator {
    final List<DmDevice> dm = new ArrayList<>();
    final List<NvmetSubsystem> subsystems = new ArrayList<>();
    final Map<Integer, NvmetPort> ports = new TreeMap<>();
    final List<FabricConnection> connections = new ArrayList<>();

    NodeAccumulator(String nodeId) {}

    void linkToPort(int portId, String address, int serviceId, Map<Integer, AnaState> ana, String nqn) {
      NvmetPort existing = ports.get(portId);
      List<String> subsystems = new ArrayList<>(existing == null ? List.of() : existing.subsystems());
      subsystems.add(nqn);
      Map<Integer, AnaState> groups = new TreeMap<>(existing == null ? Map.of() : existing.anaGroups());
      groups.putAll(ana);
      ports.put(portId, new NvmetPort(portId, TRANSPORT, ADDRESS_FAMILY, address, serviceId, groups, subsystems));
    }

    DesiredState build(String volumeId, long epoch) {
      return new DesiredState(volumeId, epoch, dm, subsystems, List.copyOf(ports.values()), connections);
    }
  }
}
