package io.toma.kernel.sim;

import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalLong;
import java.util.function.Function;

/**
 * A whole simulated cluster: nodes with their kernels and disks, the fabric between them, one
 * clock and the fault switches. Deterministic: no wall clock, no threads, no randomness; the same
 * calls give the same states.
 *
 * <pre>{@code
 * SimCluster cluster = SimCluster.create();
 * SimNode a = cluster.addNode("disk-a", "10.0.0.1");
 * a.addDisk("nvme-a0", 4L << 40);
 * Kernel kernel = a.kernel();              // apply KernelOps, read() KernelState
 * SimHost host = cluster.addHost("host-1", "10.0.9.1", "nqn.2026-11.io.toma:host-1");
 * cluster.killDisk("disk-a", "nvme-a0");
 * cluster.advance(Duration.ofSeconds(5));
 * }</pre>
 */
public final class SimCluster {

  /** Resync speed of dm-raid in bytes per second of simulated time. */
  public static final long DEFAULT_RAID_BANDWIDTH = 64L << 20;

  private final SimClock clock = new SimClock();
  private final SimFabric fabric = new SimFabric();
  private final Map<String, SimNode> nodes = new LinkedHashMap<>();
  private final long raidBandwidth;
  /** What the nodes' host sides connect through: the fabric, or the fabric routed with a transport. */
  private final FabricEndpoint endpoint;
  private final FabricExports exports = new FabricExports(this, fabric);

  private SimCluster(long raidBandwidth) {
    this(raidBandwidth, Optional.empty());
  }

  private SimCluster(long raidBandwidth, Optional<Function<SimClock, FabricEndpoint>> remote) {
    this.raidBandwidth = raidBandwidth;
    this.endpoint = remote.<FabricEndpoint>map(r -> new RoutedFabric(fabric, r.apply(clock))).orElse(fabric);
    clock.register(new SimClock.Timed() {
      @Override
      public OptionalLong nextDeadlineNanos() {
        long earliest = Long.MAX_VALUE;
        for (SimNode node : nodes.values()) {
          if (node.isUp()) {
            earliest = Math.min(earliest, node.twin().nextDeadlineNanos().orElse(Long.MAX_VALUE));
          }
        }
        return earliest == Long.MAX_VALUE ? OptionalLong.empty() : OptionalLong.of(earliest);
      }

      @Override
      public void onTime(long nowNanos) {
        for (SimNode node : nodes.values()) {
          if (node.isUp()) {
            node.twin().onTime(nowNanos);
          }
        }
        afterChange();
      }
    });
  }

  public static SimCluster create() {
    return new SimCluster(DEFAULT_RAID_BANDWIDTH);
  }

  /**
   * A cluster that is one part of a larger one spread over processes: connections to addresses of
   * nodes outside this cluster go through {@code remote} (e.g. {@code kernel.sim.wire.WireFabric}),
   * which gets the clock, whose monitor is the simulation's one lock.
   */
  public static SimCluster withRemoteFabric(Function<SimClock, FabricEndpoint> remote) {
    return new SimCluster(DEFAULT_RAID_BANDWIDTH, Optional.of(remote));
  }

  /** The targets of this cluster's nodes, for hosts in other processes. */
  public FabricExports exports() {
    return exports;
  }

  public static SimCluster withRaidBandwidth(long bytesPerSecond) {
    if (bytesPerSecond <= 0) {
      throw new IllegalArgumentException("raid bandwidth must be positive");
    }
    return new SimCluster(bytesPerSecond);
  }

  public SimNode addNode(String nodeId, String fabricAddress) {
    synchronized (clock) {
      if (nodes.containsKey(nodeId)) {
        throw new IllegalArgumentException("node " + nodeId + " exists");
      }
      SimNode node = new SimNode(this, nodeId, fabricAddress);
      fabric.add(node);
      nodes.put(nodeId, node);
      return node;
    }
  }

  /** A node acting as an NVMe-oF host (initiator) with its own host NQN. */
  public SimHost addHost(String nodeId, String fabricAddress, String hostNqn) {
    return new SimHost(addNode(nodeId, fabricAddress), hostNqn);
  }

  /** A host initiator on an existing node (a converged node can be host too). */
  public SimHost hostOn(String nodeId, String hostNqn) {
    return new SimHost(node(nodeId), hostNqn);
  }

  public SimNode node(String nodeId) {
    synchronized (clock) {
      SimNode node = nodes.get(nodeId);
      if (node == null) {
        throw new IllegalArgumentException("no node " + nodeId);
      }
      return node;
    }
  }

  public List<SimNode> nodes() {
    synchronized (clock) {
      return List.copyOf(nodes.values());
    }
  }

  public SimClock clock() {
    return clock;
  }

  public SimFabric fabric() {
    return fabric;
  }

  /** Moves simulated time; resyncs progress, reconnects and ctrl-loss timeouts fire on the way. */
  public void advance(Duration step) {
    synchronized (clock) {
      clock.advance(step);
    }
  }

  // ---- faults ----

  /** The disk fails every I/O and disappears from its node's block devices; for good. */
  public void killDisk(String nodeId, String diskId) {
    synchronized (clock) {
      node(nodeId).disk(diskId).die();
    }
  }

  /** Every I/O on the disk reports this extra latency (zero heals it). */
  public void slowDisk(String nodeId, String diskId, Duration extraLatency) {
    synchronized (clock) {
      node(nodeId).disk(diskId).setExtraLatency(extraLatency);
    }
  }

  /** Cuts both directions between two nodes. */
  public void cutLink(String a, String b) {
    synchronized (clock) {
      fabric.cut(a, b);
      fabric.cut(b, a);
      afterChange();
    }
  }

  /** Cuts one direction only (packets from {@code from} to {@code to} are lost). */
  public void cutLinkOneWay(String from, String to) {
    synchronized (clock) {
      fabric.cut(from, to);
      afterChange();
    }
  }

  /** Heals both directions; controllers come back at their next reconnect attempt. */
  public void healLink(String a, String b) {
    synchronized (clock) {
      fabric.heal(a, b);
      fabric.heal(b, a);
      afterChange();
    }
  }

  public void healLinkOneWay(String from, String to) {
    synchronized (clock) {
      fabric.heal(from, to);
      afterChange();
    }
  }

  /** The node's kernel stops answering: its targets are unreachable, its kernel calls throw. */
  public void crash(String nodeId) {
    synchronized (clock) {
      node(nodeId).crash();
      afterChange();
    }
  }

  /** The node boots again with no kernel objects at all; its disks and their data are kept. */
  public void restart(String nodeId) {
    synchronized (clock) {
      node(nodeId).restart();
      afterChange();
    }
  }

  // ---- internals ----

  /**
   * One lock for the whole simulated world (the clock's monitor): node agents may call their
   * kernels from several dispatcher threads at once, and every call may touch other nodes.
   * Holding it, nothing else runs; the order of calls stays the caller's to make deterministic.
   */
  Object lock() {
    return clock;
  }

  KernelTwin newTwin(SimNode node) {
    return new KernelTwin(node, endpoint, clock, raidBandwidth);
  }

  /** After any change of state or topology: every live controller checks its association. */
  void afterChange() {
    for (SimNode node : nodes.values()) {
      if (node.isUp()) {
        node.twin().host().checkAssociations(clock.nowNanos());
      }
    }
  }
}
