package io.toma.kernel.sim;

import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * One simulated machine: an id, a fabric address, physical disks (which survive restarts) and a
 * kernel (whose objects do not). Built through {@link SimCluster#addNode(String, String)}.
 */
public final class SimNode {
  private final SimCluster cluster;
  private final String id;
  private final String fabricAddress;
  private final List<SimDisk> disks = new ArrayList<>();
  private final SimKernel kernel;
  private KernelTwin twin;
  private boolean up = true;

  SimNode(SimCluster cluster, String id, String fabricAddress) {
    this.cluster = cluster;
    this.id = id;
    this.fabricAddress = fabricAddress;
    this.twin = cluster.newTwin(this);
    this.kernel = new SimKernel(this);
  }

  public String id() {
    return id;
  }

  /** The address nvmet ports on this node listen on and hosts connect to. */
  public String fabricAddress() {
    return fabricAddress;
  }

  /** Adds a physical disk named {@code /dev/nullb<N>}; sizes up to TiB cost no memory until written. */
  public SimDisk addDisk(String diskId, long sizeBytes) {
    return addDisk(diskId, "/dev/nullb" + disks.size(), sizeBytes);
  }

  public SimDisk addDisk(String diskId, String path, long sizeBytes) {
    synchronized (cluster.lock()) {
      if (diskById(diskId).isPresent() || disks.stream().anyMatch(d -> d.path().equals(path))) {
        throw new IllegalArgumentException("node " + id + " already has disk " + diskId + " or path " + path);
      }
      SimDisk disk = new SimDisk(diskId, path, sizeBytes);
      disks.add(disk);
      return disk;
    }
  }

  public List<SimDisk> disks() {
    return List.copyOf(disks);
  }

  public Optional<SimDisk> diskById(String diskId) {
    return disks.stream().filter(d -> d.id().equals(diskId)).findFirst();
  }

  public SimDisk disk(String diskId) {
    return diskById(diskId).orElseThrow(() -> new IllegalArgumentException("no disk " + diskId + " on " + id));
  }

  /** This node's kernel. The same object across crashes and restarts; it throws while the node is down. */
  public SimKernel kernel() {
    return kernel;
  }

  public boolean isUp() {
    return up;
  }

  SimCluster cluster() {
    return cluster;
  }

  KernelTwin twin() {
    return twin;
  }

  void crash() {
    up = false;
  }

  void restart() {
    twin = cluster.newTwin(this);
    up = true;
  }
}
