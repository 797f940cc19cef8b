package io.toma.systemtest;

import io.toma.kernel.KernelException;
import io.toma.kernel.KernelState;
import io.toma.kernel.sim.FabricExports.DiscoveryEntry;
import io.toma.kernel.sim.IoResult;
import io.toma.kernel.sim.SimCluster;
import io.toma.kernel.sim.SimHost;
import io.toma.kernel.sim.wire.WireDiscovery;
import io.toma.kernel.sim.wire.WireFabric;
import java.io.IOException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashSet;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.SplittableRandom;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * An application host outside the cluster's processes: a simulated NVMe-oF initiator whose fabric
 * is the wire protocol, connected to every controller of one volume (native multipath, ANA). It
 * writes sequence-numbered 4 KiB blocks on its own thread, one every {@code period}, each retried
 * while the kernel holds it (no usable path) until it is acknowledged or fails, and records the
 * monotonic time of every acknowledgement. {@link #verify()} reads every block back and compares
 * it with the last write acknowledged there.
 *
 * <p>Like {@code nvme discover}, it asks every node which subsystems allow its host NQN, and
 * connects to each new path of the volume it finds.
 */
public final class HostWriter implements AutoCloseable {
  public static final String HOST_NQN = "nqn.2026-11.io.toma:host:system-test-writer";
  public static final int BLOCK = 4096;
  /** Blocks written round-robin: 4 MiB, small enough to read back in seconds. */
  public static final int BLOCKS = 1024;
  private static final Duration DISCOVER_EVERY = Duration.ofMillis(500);
  private static final int DISCOVER_TIMEOUT_MILLIS = 500;

  /** The volume's written state as the host knows it, and what happened to its writes. */
  public record Counters(long acknowledged, long failed, long heldRetries) {}

  /** The outcome of reading every block back. */
  public record Verification(int blocksChecked, List<String> mismatches, List<String> unreadable) {
    public boolean allReadBack() {
      return mismatches.isEmpty() && unreadable.isEmpty();
    }
  }

  private final SimCluster cluster;
  private final WireFabric[] wire = new WireFabric[1];
  private final SimHost host;
  private final String volumeNqn;
  private final List<Endpoint> nodes;
  private final Duration period;
  /** Sequence number last acknowledged per block; 0 = never written; -1 = last write failed. */
  private final long[] acknowledged = new long[BLOCKS];
  private final long seed;
  private final AckLog acks = new AckLog();
  private final AtomicBoolean running = new AtomicBoolean(true);
  private final AtomicBoolean paused = new AtomicBoolean(false);
  private final Thread thread;
  private long failed;
  private long heldRetries;
  private long nextSeq = 1;
  private boolean started;
  private long lastDiscoverNanos;
  private long lastClockNanos = System.nanoTime();
  private volatile String lastProblem = "";
  private final List<String> failures = new ArrayList<>();

  private HostWriter(String volumeId, List<Endpoint> nodes, Duration period) {
    this.cluster = SimCluster.withRemoteFabric(clock -> {
      int port = nodes.get(0).fabricPort();
      wire[0] = new WireFabric(clock, address -> new java.net.InetSocketAddress(address, port));
      return wire[0];
    });
    this.host = cluster.addHost("system-test-host", "127.0.2.1", HOST_NQN);
    this.volumeNqn = "nqn.2026-11.io.toma:" + volumeId;
    this.nodes = List.copyOf(nodes);
    this.period = period;
    this.seed = volumeId.hashCode();
    this.thread = new Thread(this::loop, "host-writer-" + volumeId);
    this.thread.setDaemon(true);
  }

  /** Starts writing to the volume (its controllers must allow {@link #HOST_NQN}: attach it first). */
  public static HostWriter start(String volumeId, List<Endpoint> nodes, Duration period) {
    HostWriter writer = new HostWriter(volumeId, nodes, period);
    writer.thread.start();
    return writer;
  }

  public String volumeNqn() {
    return volumeNqn;
  }

  /** Every acknowledgement so far, as monotonic times ({@link System#nanoTime()}). */
  public AckLog acks() {
    return acks;
  }

  public synchronized Counters counters() {
    return new Counters(acks.size(), failed, heldRetries);
  }

  /** The first few failed writes, with why and the host's paths then. */
  public synchronized List<String> failures() {
    return List.copyOf(failures);
  }

  /** What went wrong last (a failed write, a refused connect), for failure messages. */
  public String lastProblem() {
    return lastProblem;
  }

  /** How many paths (controllers) the host holds for the volume, and their states. */
  public List<String> paths() {
    try {
      return host.node().kernel().read().controllers().stream()
          .map(c -> c.address() + ":" + c.serviceId() + " " + c.state()).toList();
    } catch (KernelException e) {
      return List.of("unreadable: " + e.getMessage());
    }
  }

  private void loop() {
    long next = System.nanoTime();
    while (running.get()) {
      long now = System.nanoTime();
      if (now < next) {
        sleepNanos(next - now);
        continue;
      }
      next += period.toNanos();
      if (next < now) {
        next = now; // behind after a stall: carry on at the period, no burst
      }
      cluster.advance(Duration.ofNanos(now - lastClockNanos));
      lastClockNanos = now;
      if (now - lastDiscoverNanos >= DISCOVER_EVERY.toNanos()) {
        lastDiscoverNanos = now;
        discoverAndConnect();
      }
      // Writing starts once the host holds a device for the volume (a path was connected); from
      // then on, a missing device fails writes as it would fail an application's.
      if (!started && host.devicePath(volumeNqn).isPresent()) {
        started = true;
      }
      if (!paused.get() && started) {
        writeOne();
      }
    }
  }

  private void writeOne() {
    long seq = nextSeq;
    int block = (int) ((seq - 1) % BLOCKS);
    IoResult r = host.write(volumeNqn, (long) block * BLOCK, content(block, seq));
    synchronized (this) {
      if (r instanceof IoResult.Ok) {
        acknowledged[block] = seq;
        acks.add(System.nanoTime(), seq);
        nextSeq++;
      } else if (r instanceof IoResult.Retry retry) {
        // Held by the kernel: the same write is issued again next period, as a queued request.
        heldRetries++;
        lastProblem = "write #" + seq + " held: " + retry.reason();
      } else {
        failed++;
        acknowledged[block] = -1;
        lastProblem = "write #" + seq + " failed: " + ((IoResult.Error) r).reason() + " (paths " + paths() + ")";
        if (failures.size() < 3) {
          failures.add(lastProblem);
        }
        nextSeq++;
      }
    }
  }

  private void discoverAndConnect() {
    Set<String> connected = new HashSet<>();
    try {
      for (KernelState.ControllerState c : host.node().kernel().read().controllers()) {
        connected.add(c.address() + ":" + c.serviceId());
      }
    } catch (KernelException e) {
      return;
    }
    for (Endpoint node : nodes) {
      List<DiscoveryEntry> offered;
      try {
        offered = WireDiscovery.discover(node.fabricSocket(), node.fabricHost(), HOST_NQN, DISCOVER_TIMEOUT_MILLIS);
      } catch (IOException e) {
        continue; // down or cut off: its path, if the host holds one, reconnects by itself
      }
      for (DiscoveryEntry e : offered) {
        if (e.subsystemNqn().equals(volumeNqn) && !connected.contains(e.address() + ":" + e.serviceId())) {
          try {
            host.connect(e.subsystemNqn(), e.address(), e.serviceId());
          } catch (KernelException ex) {
            lastProblem = "connect to " + e.address() + ":" + e.serviceId() + ": " + ex.getMessage();
          }
        }
      }
    }
  }

  /** Stops issuing writes (the loop keeps the host's paths and clock going). */
  public void pause() {
    paused.set(true);
  }

  public void resume() {
    paused.set(false);
  }

  /**
   * Reads every block back through the volume and compares it with its last acknowledged write;
   * pauses writing meanwhile. A read the kernel holds is retried for up to {@code patience}.
   */
  public Verification verify(Duration patience) {
    pause();
    try {
      sleepNanos(2 * period.toNanos()); // let a write under way finish
      long[] expected;
      synchronized (this) {
        expected = acknowledged.clone();
      }
      List<String> mismatches = new ArrayList<>();
      List<String> unreadable = new ArrayList<>();
      int checked = 0;
      for (int block = 0; block < BLOCKS; block++) {
        if (expected[block] <= 0) {
          continue;
        }
        checked++;
        Optional<byte[]> data = read(block, patience);
        if (data.isEmpty()) {
          unreadable.add("block " + block + " (write #" + expected[block] + "): " + lastProblem);
        } else if (!Arrays.equals(data.get(), content(block, expected[block]))) {
          mismatches.add("block " + block + " does not hold acknowledged write #" + expected[block]);
        }
      }
      return new Verification(checked, List.copyOf(mismatches), List.copyOf(unreadable));
    } finally {
      resume();
    }
  }

  private Optional<byte[]> read(int block, Duration patience) {
    long deadline = System.nanoTime() + patience.toNanos();
    while (true) {
      IoResult r = host.read(volumeNqn, (long) block * BLOCK, BLOCK);
      if (r instanceof IoResult.Ok ok) {
        return Optional.of(ok.data());
      }
      lastProblem = "read of block " + block + ": " + r;
      if (r instanceof IoResult.Error || System.nanoTime() > deadline) {
        return Optional.empty();
      }
      sleepNanos(period.toNanos());
    }
  }

  private byte[] content(int block, long seq) {
    byte[] data = new byte[BLOCK];
    new SplittableRandom(seed * 31 + block * 1_000_003L + seq).nextBytes(data);
    return data;
  }

  private static void sleepNanos(long nanos) {
    try {
      Thread.sleep(Math.max(1, nanos / 1_000_000));
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }

  @Override
  public void close() {
    running.set(false);
    try {
      thread.join(5000);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
    if (wire[0] != null) {
      wire[0].close();
    }
  }
}
