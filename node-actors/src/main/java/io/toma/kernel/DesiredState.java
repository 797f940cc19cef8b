package io.toma.kernel;

import io.toma.persistence.CborSerializable;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * The contract between the topology manager and a node agent: the kernel objects one node must
 * hold for one volume. The agent reconciles its kernel towards the union of the DesiredState of
 * every volume it holds. Nothing here knows about placement: only kernel objects.
 *
 * <p>Names: every dm device name and NQN starts with {@link Names#PREFIX} or
 * {@link Names#NQN_PREFIX}, so an agent can garbage-collect its own objects and never touch
 * anything else.
 *
 * <p>Device references inside dm table arguments are symbolic, resolved by the agent at apply time
 * (the kernel names them only once they exist):
 * <ul>
 *   <li>{@code @disk:<diskId>}: the physical disk registered by this node under that id;</li>
 *   <li>{@code @dm:<name>}: {@code /dev/mapper/<name>};</li>
 *   <li>{@code @ns:<uuid>}: the block device of a connected NVMe-oF namespace with that uuid
 *       (found by scanning /sys/block/nvme*n*, never through udev).</li>
 * </ul>
 */
public record DesiredState(
    String volumeId,
    /** Fencing epoch of the volume. When it rises, the agent cuts every existing fabric
     * controller of this volume's subsystems whose host is no longer allowed (unlink/relink the
     * subsystem on its ports) and flushes the volume's dm devices (suspend, resume) before it
     * reports the revision applied. */
    long epoch,
    List<DmDevice> dmDevices,
    List<NvmetSubsystem> subsystems,
    List<NvmetPort> ports,
    List<FabricConnection> connections)
    implements CborSerializable {

  public DesiredState {
    dmDevices = List.copyOf(dmDevices);
    subsystems = List.copyOf(subsystems);
    ports = List.copyOf(ports);
    connections = List.copyOf(connections);
  }

  public static DesiredState empty(String volumeId, long epoch) {
    return new DesiredState(volumeId, epoch, List.of(), List.of(), List.of(), List.of());
  }

  /** One line of a device-mapper table, lengths in 512-byte sectors. */
  public record DmTableLine(long start, long length, String target, String args)
      implements CborSerializable {}

  /**
   * A device-mapper device; lower devices it references (by @dm:) must be created first.
   *
   * @param wipeSectorsWhenNew how many sectors at the start of this device the agent zeroes when
   *     it creates the device for the first time (never when it re-creates one it made before, as
   *     after a reboot). A slice of a brand-new raid member says 8192 here: an extent granted
   *     again still holds the old array's dm-raid superblock, which a new array must not find
   *     (dm-raid refuses it, or worse, assembles from it). Only a single linear table is wiped,
   *     and on its lower device before the creation, so a crash can only repeat the wipe.
   */
  public record DmDevice(String name, List<DmTableLine> table, long wipeSectorsWhenNew)
      implements CborSerializable {
    public DmDevice {
      table = List.copyOf(table);
      if (wipeSectorsWhenNew < 0) {
        throw new IllegalArgumentException("wipeSectorsWhenNew < 0: " + wipeSectorsWhenNew);
      }
    }

    /** A device whose content is kept as it is when created. */
    public DmDevice(String name, List<DmTableLine> table) {
      this(name, table, 0);
    }
  }

  /** nvmet namespace; devicePath may be a symbolic reference as above. */
  public record NvmetNamespace(
      int nsid, String devicePath, String deviceUuid, int anaGroupId, boolean enabled)
      implements CborSerializable {}

  /**
   * nvmet subsystem. attr_allow_any_host is always 0; only allowedHosts connect.
   * cntlidMin/cntlidMax give each controller node its own controller id range, so a host with
   * paths to two targets never sees a duplicate cntlid.
   */
  public record NvmetSubsystem(
      String nqn,
      List<String> allowedHosts,
      List<NvmetNamespace> namespaces,
      Optional<Integer> cntlidMin,
      Optional<Integer> cntlidMax)
      implements CborSerializable {
    public NvmetSubsystem {
      allowedHosts = List.copyOf(allowedHosts);
      namespaces = List.copyOf(namespaces);
    }
  }

  public enum AnaState {
    OPTIMIZED("optimized"),
    NON_OPTIMIZED("non-optimized"),
    INACCESSIBLE("inaccessible"),
    PERSISTENT_LOSS("persistent-loss"),
    CHANGE("change");

    private final String kernelName;

    AnaState(String kernelName) {
      this.kernelName = kernelName;
    }

    /** The word configfs reads and writes in ana_groups/N/ana_state. */
    public String kernelName() {
      return kernelName;
    }
  }

  /**
   * nvmet port. Several volumes may declare the same port (same id and address): the agent
   * merges their anaGroups and linked subsystems; a clash of addresses is an apply error.
   */
  public record NvmetPort(
      int portId,
      String transport,
      String addressFamily,
      String address,
      int serviceId,
      Map<Integer, AnaState> anaGroups,
      List<String> subsystems)
      implements CborSerializable {
    public NvmetPort {
      anaGroups = Ordered.map(anaGroups);
      subsystems = List.copyOf(subsystems);
    }
  }

  /**
   * Timeouts of an NVMe-oF host connection, in seconds. Leg members connect with
   * fastIoFail = 0 (a dead member fails in ~0.6 s and raid1 carries on); hosts connect to
   * controllers with a long ctrlLoss and no fast fail (ANA failover needs the host to queue).
   */
  public record ConnectTimeouts(
      int keepAlive, int ctrlLoss, int reconnectDelay, Optional<Integer> fastIoFail)
      implements CborSerializable {}

  /** An NVMe-oF host-side connection from this node to a remote subsystem. */
  public record FabricConnection(
      String subsystemNqn,
      String transport,
      String address,
      int serviceId,
      String hostNqn,
      ConnectTimeouts timeouts)
      implements CborSerializable {}
}
