package io.toma.kernel.fake;

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
import java.util.List;
import java.util.Map;
import java.util.Optional;

/** Desired states shaped like the topology manager's: a disk node's slice, a controller's stack. */
public final class Fixtures {
  private Fixtures() {}

  public static final String CONTROLLER_HOST = Names.NQN_PREFIX + "host:ctrl-a";
  public static final String APP_HOST = "nqn.2014-08.org.nvmexpress:uuid:11111111-2222-3333-4444-555555555555";
  public static final Map<String, String> DISKS = Map.of("d0", "/dev/nullb0", "d1", "/dev/nullb1");
  public static final String M0_UUID = "0d9a4e55-0000-4000-8000-000000000001";
  public static final String M1_UUID = "0d9a4e55-0000-4000-8000-000000000002";
  public static final String VOL_UUID = "0d9a4e55-0000-4000-8000-0000000000aa";

  public static String sliceNqn(String volume, String member) {
    return Names.NQN_PREFIX + "ld:" + volume + "-" + member;
  }

  public static String volumeNqn(String volume) {
    return Names.NQN_PREFIX + "vol:" + volume;
  }

  public static DmTableLine line(long length, String target, String args) {
    return new DmTableLine(0, length, target, args);
  }

  /** A disk node exporting one dm-linear slice of disk d0 to the controller. */
  public static DesiredState diskNode(String volume, long sectors, long epoch, List<String> allowed) {
    String slice = Names.PREFIX + volume + "-m0";
    String nqn = sliceNqn(volume, "m0");
    return new DesiredState(volume, epoch,
        List.of(new DmDevice(slice, List.of(line(sectors, "linear", "@disk:d0 0")))),
        List.of(new NvmetSubsystem(nqn, allowed,
            List.of(new NvmetNamespace(1, "@dm:" + slice, M0_UUID, 1, true)), Optional.empty(), Optional.empty())),
        List.of(new NvmetPort(1, "tcp", "ipv4", "10.0.0.1", 4420, Map.of(), List.of(nqn))),
        List.of());
  }

  public static DesiredState diskNode(String volume, long sectors) {
    return diskNode(volume, sectors, 1, List.of(CONTROLLER_HOST));
  }

  public static ConnectTimeouts legTimeouts() {
    return new ConnectTimeouts(5, 30, 1, Optional.of(0));
  }

  /** An active controller: two leg members over NVMe-oF, raid1 with metadata, raid0, ANA export. */
  public static DesiredState controller(String volume, AnaState ana) {
    String p = Names.PREFIX + volume;
    String raid1 = "0 region_size 1024 2 @dm:" + p + "-m0-meta @dm:" + p + "-m0-data @dm:" + p
        + "-m1-meta @dm:" + p + "-m1-data";
    return new DesiredState(volume, 1,
        List.of(
            new DmDevice(p + "-m0-meta", List.of(line(8192, "linear", "@ns:" + M0_UUID + " 0"))),
            new DmDevice(p + "-m0-data", List.of(line(253952, "linear", "@ns:" + M0_UUID + " 8192"))),
            new DmDevice(p + "-m1-meta", List.of(line(8192, "linear", "@ns:" + M1_UUID + " 0"))),
            new DmDevice(p + "-m1-data", List.of(line(253952, "linear", "@ns:" + M1_UUID + " 8192"))),
            new DmDevice(p + "-leg0", List.of(line(253952, "raid", "raid1 3 " + raid1))),
            new DmDevice(p, List.of(line(253952, "striped", "1 128 @dm:" + p + "-leg0 0")))),
        List.of(new NvmetSubsystem(volumeNqn(volume), List.of(APP_HOST),
            List.of(new NvmetNamespace(1, "@dm:" + p, VOL_UUID, 2, true)), Optional.of(1), Optional.of(999))),
        List.of(new NvmetPort(2, "tcp", "ipv4", "10.0.0.9", 4430, Map.of(2, ana), List.of(volumeNqn(volume)))),
        List.of(
            new FabricConnection(sliceNqn(volume, "m0"), "tcp", "10.0.0.1", 4420, CONTROLLER_HOST, legTimeouts()),
            new FabricConnection(sliceNqn(volume, "m1"), "tcp", "10.0.0.2", 4420, CONTROLLER_HOST, legTimeouts())));
  }

  /** A controller node's fake kernel that can reach both leg members of the volume. */
  public static FakeKernel controllerKernel(String volume) {
    return new FakeKernel(DISKS).exporting(sliceNqn(volume, "m0"), M0_UUID).exporting(sliceNqn(volume, "m1"), M1_UUID);
  }
}
