package io.toma.server;

import io.prometheus.metrics.core.metrics.CounterWithCallback;
import io.prometheus.metrics.core.metrics.GaugeWithCallback;
import io.prometheus.metrics.model.registry.PrometheusRegistry;
import io.toma.kernel.Kernel;
import io.toma.kernel.KernelException;
import io.toma.kernel.KernelState;
import io.toma.kernel.sim.IoResult;
import io.toma.kernel.sim.SimCluster;
import io.toma.kernel.sim.SimHost;
import io.toma.kernel.sim.SimNode;
import java.util.Arrays;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.SplittableRandom;
import java.util.TreeMap;
import java.util.concurrent.atomic.AtomicLong;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The demo's application host: a simulated NVMe-oF initiator that, for every volume attached to
 * it, connects to each of the volume's controllers (native multipath) and writes and verifies
 * blocks continuously, so a user sees data flow and survive faults. Driven by {@link #tick()} on
 * the demo's clock thread; every call into the simulation holds the cluster's lock.
 *
 * <p>Like {@code nvme discover}, it finds what it may connect to by looking at the targets: every
 * subsystem that allows its host NQN, on every port that exports it. It disconnects a volume only
 * when every node answered and none offers it any more (detached or deleted), never because a node
 * is down.
 */
final class DemoHost {
  static final String HOST_NQN = "nqn.2026-11.io.toma:demo-host";
  static final String NODE_ID = "demo-host";
  static final String FABRIC_ADDRESS = "127.0.2.1";
  static final int BLOCK = 4096;
  /** Blocks written round-robin per volume: enough to see data move, bounded in memory. */
  static final int WORKING_SET_BLOCKS = 256;
  static final int WRITES_PER_TICK = 4;

  private static final Logger log = LoggerFactory.getLogger(DemoHost.class);

  /** What the host has seen since it started, over all volumes. */
  record Counters(int volumes, long writesAcknowledged, long readsVerified, long ioErrors, long mismatches, long stalls) {
    @Override
    public String toString() {
      return volumes + " volume" + (volumes == 1 ? "" : "s") + " attached, " + writesAcknowledged
          + " writes acknowledged, " + readsVerified + " reads verified, " + ioErrors + " I/O errors, "
          + mismatches + " data mismatches, " + stalls + " stalls (I/O held by the kernel)";
    }
  }

  private final SimCluster cluster;
  private final SimHost host;
  private final Map<String, VolumeIo> volumes = new TreeMap<>();
  private final AtomicLong writes = new AtomicLong();
  private final AtomicLong verified = new AtomicLong();
  private final AtomicLong ioErrors = new AtomicLong();
  private final AtomicLong mismatches = new AtomicLong();
  private final AtomicLong stalls = new AtomicLong();
  private volatile int attached;

  DemoHost(SimCluster cluster) {
    this.cluster = cluster;
    this.host = cluster.addHost(NODE_ID, FABRIC_ADDRESS, HOST_NQN);
  }

  Counters counters() {
    return new Counters(attached, writes.get(), verified.get(), ioErrors.get(), mismatches.get(), stalls.get());
  }

  /** The subsystem NQNs (volumes) the host has a device for now. */
  synchronized Set<String> volumes() {
    return Set.copyOf(volumes.keySet());
  }

  /** Exposes the counters on the registry the front manager's /metrics serves. */
  void register(PrometheusRegistry registry) {
    counter(registry, "toma_demo_host_writes_acknowledged", "Blocks the demo host wrote and the volume acknowledged", writes);
    counter(registry, "toma_demo_host_reads_verified", "Blocks the demo host read back with the content last acknowledged", verified);
    counter(registry, "toma_demo_host_io_errors", "Reads or writes of the demo host that failed (EIO)", ioErrors);
    counter(registry, "toma_demo_host_data_mismatches", "Reads that did not return what was acknowledged (must stay 0)", mismatches);
    counter(registry, "toma_demo_host_stalls", "I/O the kernel held (no usable path yet) and the host retried later", stalls);
    GaugeWithCallback.builder().name("toma_demo_host_volumes").help("Volumes attached to the demo host")
        .callback(cb -> cb.call(attached)).register(registry);
  }

  private static void counter(PrometheusRegistry registry, String name, String help, AtomicLong value) {
    CounterWithCallback.builder().name(name).help(help).callback(cb -> cb.call(value.get())).register(registry);
  }

  /** One round: connect to what is offered, drop what is gone, then write and verify a few blocks. */
  synchronized void tick() {
    discover();
    for (VolumeIo v : volumes.values()) {
      v.run();
    }
    attached = volumes.size();
  }

  private record Endpoint(String nqn, String address, int serviceId) {}

  private void discover() {
    Set<Endpoint> offered = new HashSet<>();
    boolean everyNodeAnswered = true;
    for (SimNode node : cluster.nodes()) {
      if (node.id().equals(NODE_ID)) {
        continue;
      }
      KernelState state;
      try {
        state = node.kernel().read();
      } catch (KernelException e) {
        everyNodeAnswered = false;
        continue;
      }
      for (KernelState.SubsystemState s : state.subsystems().values()) {
        if (!s.allowedHosts().contains(HOST_NQN)) {
          continue;
        }
        for (KernelState.PortState p : state.ports().values()) {
          if (p.subsystems().contains(s.nqn())) {
            offered.add(new Endpoint(s.nqn(), p.address(), p.serviceId()));
          }
        }
      }
    }
    Kernel own = host.node().kernel();
    Set<Endpoint> connected = new HashSet<>();
    try {
      own.read().controllers().forEach(c -> connected.add(new Endpoint(c.subsystemNqn(), c.address(), c.serviceId())));
    } catch (KernelException e) {
      return;
    }
    for (Endpoint e : offered) {
      if (!connected.contains(e)) {
        try {
          host.connect(e.nqn(), e.address(), e.serviceId());
          log.info("demo host: connected to volume {} through {}:{}", e.nqn(), e.address(), e.serviceId());
        } catch (KernelException ex) {
          log.debug("demo host: cannot connect to {} at {}:{} yet: {}", e.nqn(), e.address(), e.serviceId(), ex.getMessage());
        }
      }
    }
    Set<String> offeredNqns = new HashSet<>();
    offered.forEach(e -> offeredNqns.add(e.nqn()));
    Set<String> connectedNqns = new HashSet<>();
    connected.forEach(e -> connectedNqns.add(e.nqn()));
    if (everyNodeAnswered) {
      for (String nqn : connectedNqns) {
        if (!offeredNqns.contains(nqn)) {
          try {
            host.disconnect(nqn);
            log.info("demo host: volume {} is no longer offered to it (detached or deleted); disconnected", nqn);
          } catch (KernelException ex) {
            log.warn("demo host: cannot disconnect {}: {}", nqn, ex.getMessage());
          }
          volumes.remove(nqn);
        }
      }
    }
    for (String nqn : offeredNqns) {
      if (!volumes.containsKey(nqn) && host.devicePath(nqn).isPresent()) {
        volumes.put(nqn, new VolumeIo(nqn, blocksOf(nqn)));
      }
    }
  }

  private int blocksOf(String nqn) {
    try {
      String path = host.devicePath(nqn).orElseThrow();
      List<Kernel.BlockDeviceInfo> info = host.node().kernel().blockDevices(List.of(path));
      long bytes = info.isEmpty() ? 0 : info.get(0).sizeBytes();
      return (int) Math.max(1, Math.min(WORKING_SET_BLOCKS, bytes / BLOCK));
    } catch (KernelException e) {
      return 1;
    }
  }

  /** Writes blocks round-robin and reads back the one written longest ago, comparing its content. */
  private final class VolumeIo {
    private static final long UNKNOWN = -1;
    private final String nqn;
    private final long[] generation;
    private final long seed;
    private int nextWrite;
    private int nextRead;
    private long writesDone;

    VolumeIo(String nqn, int blocks) {
      this.nqn = nqn;
      this.generation = new long[blocks];
      Arrays.fill(generation, UNKNOWN);
      this.seed = nqn.hashCode();
    }

    void run() {
      for (int i = 0; i < WRITES_PER_TICK; i++) {
        write();
        read();
      }
    }

    private void write() {
      int block = nextWrite;
      nextWrite = (nextWrite + 1) % generation.length;
      long gen = ++writesDone;
      IoResult r = host.write(nqn, (long) block * BLOCK, content(block, gen));
      if (r instanceof IoResult.Ok) {
        generation[block] = gen;
        writes.incrementAndGet();
        return;
      }
      // Not acknowledged: the block may hold the old or the new content, so it is not checked
      // until it is written again.
      generation[block] = UNKNOWN;
      count(r, "write", block);
    }

    private void read() {
      for (int tries = 0; tries < generation.length; tries++) {
        int block = nextRead;
        nextRead = (nextRead + 1) % generation.length;
        if (generation[block] == UNKNOWN) {
          continue;
        }
        IoResult r = host.read(nqn, (long) block * BLOCK, BLOCK);
        if (r instanceof IoResult.Ok ok) {
          if (Arrays.equals(ok.data(), content(block, generation[block]))) {
            verified.incrementAndGet();
          } else {
            mismatches.incrementAndGet();
            log.error("demo host: volume {} block {} does not hold what was acknowledged (write #{}): data lost",
                nqn, block, generation[block]);
          }
        } else {
          count(r, "read", block);
        }
        return;
      }
    }

    private void count(IoResult r, String what, int block) {
      if (r instanceof IoResult.Retry retry) {
        stalls.incrementAndGet();
        log.debug("demo host: {} of {} block {} held: {}", what, nqn, block, retry.reason());
      } else if (r instanceof IoResult.Error error) {
        ioErrors.incrementAndGet();
        log.debug("demo host: {} of {} block {} failed: {}", what, nqn, block, error.reason());
      }
    }

    private byte[] content(int block, long gen) {
      byte[] data = new byte[BLOCK];
      new SplittableRandom(seed * 31 + block * 1_000_003L + gen).nextBytes(data);
      return data;
    }
  }
}
