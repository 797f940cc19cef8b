package io.toma.kernel.sim;

import static io.toma.kernel.Names.NQN_PREFIX;
import static io.toma.kernel.Names.PREFIX;

import io.toma.kernel.DesiredState.AnaState;
import io.toma.kernel.DesiredState.ConnectTimeouts;
import io.toma.kernel.DesiredState.DmTableLine;
import io.toma.kernel.DesiredState.FabricConnection;
import io.toma.kernel.Kernel;
import io.toma.kernel.KernelException;
import io.toma.kernel.KernelOp;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * Builds, with plain KernelOps, the stack of kernel-recipes.md on simulated nodes: disk nodes
 * slice their disk with dm-linear and export each slice through nvmet to an allowed controller;
 * a controller connects the slices, splits each into meta + data, mirrors them in raid1 legs,
 * stripes the legs with raid0 and exports the result with an ANA group; a standby exports the
 * same NQN over an error target, inaccessible; a host connects to both.
 */
final class VolumeStack {
  static final long TIB = 1L << 40;
  static final long META = 8192;          // sectors, as in kernel-recipes.md
  static final long DATA = 24576;         // sectors (12 MiB) per member
  static final long SLICE = META + DATA;  // sectors per logical disk
  static final long CHUNK = 128;          // raid0 chunk, sectors
  static final long VOLUME = 2 * DATA;    // two legs striped
  static final int DISK_PORT = 4420;
  static final int VOLUME_PORT = 4430;
  static final int ANA_GROUP = 2;
  static final String VOLUME_NQN = NQN_PREFIX + "vol-1";
  static final String VOLUME_UUID = "7d5b0a3e-0000-4000-8000-00000000a001";
  static final String HOST_NQN = NQN_PREFIX + "host-1";
  static final ConnectTimeouts FAST_FAIL = new ConnectTimeouts(5, 5, 1, Optional.of(0));
  static final ConnectTimeouts QUEUEING = new ConnectTimeouts(5, 5, 1, Optional.empty());

  /** A logical disk: slice {@code index} of the disk of {@code node}. */
  record Slice(String node, int index) {
    String name() {
      return PREFIX + "ld-" + node + "-" + index;
    }

    String nqn() {
      return NQN_PREFIX + "ld-" + node + "-" + index;
    }

    String uuid() {
      return String.format("00000000-0000-4000-8000-%012d", Math.abs((node + index).hashCode()) % 1_000_000_000L);
    }
  }

  final SimCluster cluster;
  final ConnectTimeouts legTimeouts;
  final SimHost host;

  VolumeStack(SimCluster cluster, ConnectTimeouts legTimeouts) {
    this.cluster = cluster;
    this.legTimeouts = legTimeouts;
    for (int i = 1; i <= 3; i++) {
      cluster.addNode("d" + i, "10.0.0." + i).addDisk("disk0", TIB);
    }
    cluster.addNode("c1", "10.0.1.1");
    cluster.addNode("c2", "10.0.1.2");
    host = cluster.addHost("h1", "10.0.2.1", HOST_NQN);
  }

  static VolumeStack built(ConnectTimeouts legTimeouts) throws KernelException {
    VolumeStack stack = new VolumeStack(SimCluster.create(), legTimeouts);
    stack.buildAll();
    return stack;
  }

  /** leg 0 mirrors d1/0 and d2/0, leg 1 mirrors d2/1 and d3/0. */
  static final List<List<Slice>> LEGS = List.of(
      List.of(new Slice("d1", 0), new Slice("d2", 0)),
      List.of(new Slice("d2", 1), new Slice("d3", 0)));

  void buildAll() throws KernelException {
    for (List<Slice> leg : LEGS) {
      for (Slice slice : leg) {
        exportSlice(slice, "c1");
      }
    }
    buildController("c1", 1, 99, AnaState.OPTIMIZED);
    buildStandby("c2", 100, 199);
    host.connect(VOLUME_NQN, "10.0.1.1", VOLUME_PORT);
    host.connect(VOLUME_NQN, "10.0.1.2", VOLUME_PORT);
    cluster.advance(java.time.Duration.ofSeconds(1)); // initial raid1 resync of 12 MiB at 64 MiB/s
  }

  static String controllerNqn(String controller) {
    return NQN_PREFIX + controller;
  }

  SimKernel kernel(String node) {
    return cluster.node(node).kernel();
  }

  /** On the slice's disk node: dm-linear slice, nvmet export allowed to {@code controller} only. */
  void exportSlice(Slice slice, String controller) throws KernelException {
    Kernel k = kernel(slice.node());
    var state = k.read();
    if (!state.hosts().contains(controllerNqn(controller))) {
      k.apply(new KernelOp.HostCreate(controllerNqn(controller)));
    }
    k.apply(new KernelOp.DmCreate(slice.name(),
        List.of(new DmTableLine(0, SLICE, "linear", "@disk:disk0 " + slice.index() * SLICE))));
    k.apply(new KernelOp.SubsystemCreate(slice.nqn(), Optional.empty(), Optional.empty()));
    k.apply(new KernelOp.SubsystemAllowHost(slice.nqn(), controllerNqn(controller)));
    k.apply(new KernelOp.NamespaceCreate(slice.nqn(), 1, "@dm:" + slice.name(), slice.uuid(), 1));
    if (!state.ports().containsKey(DISK_PORT)) {
      k.apply(new KernelOp.PortCreate(DISK_PORT, "tcp", "ipv4", cluster.node(slice.node()).fabricAddress(), DISK_PORT));
    }
    k.apply(new KernelOp.PortLinkSubsystem(DISK_PORT, slice.nqn()));
  }

  /** On a controller: connect a slice and split it into meta and data devices. */
  void attachMember(String controller, Slice slice) throws KernelException {
    Kernel k = kernel(controller);
    k.apply(new KernelOp.Connect(new FabricConnection(slice.nqn(), "tcp",
        cluster.node(slice.node()).fabricAddress(), DISK_PORT, controllerNqn(controller), legTimeouts)));
    k.apply(new KernelOp.DmCreate(meta(slice), List.of(new DmTableLine(0, META, "linear", "@ns:" + slice.uuid() + " 0"))));
    k.apply(new KernelOp.DmCreate(data(slice),
        List.of(new DmTableLine(0, DATA, "linear", "@ns:" + slice.uuid() + " " + META))));
  }

  static String meta(Slice slice) {
    return slice.name() + "-meta";
  }

  static String data(Slice slice) {
    return slice.name() + "-data";
  }

  static String legName(int leg) {
    return PREFIX + "vol-1-leg" + leg;
  }

  static String volumeName() {
    return PREFIX + "vol-1";
  }

  /** The raid1 table of kernel-recipes.md; {@code rebuild} names a slot to resync. */
  static DmTableLine raid1(List<Slice> members, Optional<Integer> rebuild) {
    StringBuilder args = new StringBuilder("raid1 ");
    args.append(rebuild.isPresent() ? "5 0 region_size 1024 rebuild " + rebuild.get() : "3 0 region_size 1024");
    args.append(' ').append(members.size());
    for (Slice member : members) {
      args.append(" @dm:").append(meta(member)).append(" @dm:").append(data(member));
    }
    return new DmTableLine(0, DATA, "raid", args.toString());
  }

  static DmTableLine striped() {
    return new DmTableLine(0, VOLUME, "striped",
        "2 " + CHUNK + " @dm:" + legName(0) + " 0 @dm:" + legName(1) + " 0");
  }

  void buildLegsAndStripe(String controller) throws KernelException {
    Kernel k = kernel(controller);
    for (int leg = 0; leg < LEGS.size(); leg++) {
      for (Slice slice : LEGS.get(leg)) {
        attachMember(controller, slice);
      }
      k.apply(new KernelOp.DmCreate(legName(leg), List.of(raid1(LEGS.get(leg), Optional.empty()))));
    }
  }

  void buildController(String controller, int cntlidMin, int cntlidMax, AnaState ana) throws KernelException {
    buildLegsAndStripe(controller);
    kernel(controller).apply(new KernelOp.DmCreate(volumeName(), List.of(striped())));
    exportVolume(controller, cntlidMin, cntlidMax, ana);
  }

  void buildStandby(String controller, int cntlidMin, int cntlidMax) throws KernelException {
    kernel(controller).apply(new KernelOp.DmCreate(volumeName(), List.of(new DmTableLine(0, VOLUME, "error", ""))));
    exportVolume(controller, cntlidMin, cntlidMax, AnaState.INACCESSIBLE);
  }

  private void exportVolume(String controller, int cntlidMin, int cntlidMax, AnaState ana) throws KernelException {
    Kernel k = kernel(controller);
    k.apply(new KernelOp.HostCreate(HOST_NQN));
    k.apply(new KernelOp.SubsystemCreate(VOLUME_NQN, Optional.of(cntlidMin), Optional.of(cntlidMax)));
    k.apply(new KernelOp.SubsystemAllowHost(VOLUME_NQN, HOST_NQN));
    k.apply(new KernelOp.NamespaceCreate(VOLUME_NQN, 1, "@dm:" + volumeName(), VOLUME_UUID, ANA_GROUP));
    k.apply(new KernelOp.PortCreate(VOLUME_PORT, "tcp", "ipv4", cluster.node(controller).fabricAddress(), VOLUME_PORT));
    k.apply(new KernelOp.AnaGroupCreate(VOLUME_PORT, ANA_GROUP));
    k.apply(new KernelOp.AnaGroupSetState(VOLUME_PORT, ANA_GROUP, ana));
    k.apply(new KernelOp.PortLinkSubsystem(VOLUME_PORT, VOLUME_NQN));
  }

  String status(String node, String dmName) throws KernelException {
    return kernel(node).read().dmDevices().get(dmName).status();
  }

  /** A deterministic pattern of {@code length} bytes. */
  static byte[] pattern(long seed, int length) {
    byte[] bytes = new byte[length];
    new java.util.Random(seed).nextBytes(bytes);
    return bytes;
  }

  /** Every slice of the stack, for tests that walk them. */
  static List<Slice> allSlices() {
    List<Slice> slices = new ArrayList<>();
    LEGS.forEach(slices::addAll);
    return slices;
  }
}
