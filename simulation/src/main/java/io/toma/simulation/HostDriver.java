package io.toma.simulation;

import io.toma.kernel.KernelException;
import io.toma.kernel.KernelState;
import io.toma.kernel.sim.IoResult;
import io.toma.kernel.sim.SimHost;
import io.toma.topology.ControllerPlacement;
import io.toma.volume.VolumeNames;
import java.nio.ByteBuffer;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Random;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;

/**
 * A simulated host using its attached volumes: it connects to every controller the manager names
 * (native multipath does the rest), writes numbered blocks and reads them back. It keeps the model
 * the first invariant is checked against: per block, the last acknowledged write, and the writes
 * whose outcome it does not know (failed or held), which a read may also return.
 */
final class HostDriver {
  static final int BLOCK = 4096;
  static final int BLOCKS = 24;

  /** The host's knowledge of one block. */
  private static final class Block {
    long acked;
    final Set<Long> unsure = new TreeSet<>();
  }

  private final SimHost host;
  private final Map<String, Map<Integer, Block>> model = new TreeMap<>();
  private long counter;
  private long acknowledged;

  HostDriver(SimHost host) {
    this.host = host;
  }

  String hostNqn() {
    return host.hostNqn();
  }

  long acknowledgedWrites() {
    return acknowledged;
  }

  /** Connects to controllers the manager names that the host has no path to yet. */
  void discover(ManagerShell.VolumeView volume) {
    if (!host.node().isUp()) {
      return;
    }
    String nqn = VolumeNames.volumeNqn(volume.volume());
    List<KernelState.ControllerState> have;
    try {
      have = host.node().kernel().read().controllers();
    } catch (KernelException e) {
      return;
    }
    for (ControllerPlacement c : volume.controllers()) {
      boolean connected = have.stream().anyMatch(s -> s.subsystemNqn().equals(nqn)
          && s.address().equals(c.fabricAddress()) && s.serviceId() == c.serviceId());
      if (!connected) {
        try {
          host.connect(nqn, c.fabricAddress(), c.serviceId());
        } catch (KernelException e) {
          // Not exported yet, or not reachable: discovery tries again next step.
        }
      }
    }
  }

  /** One write and one verifying read; the outcome feeds the trace. */
  String io(String volume, Random random, Sink sink) {
    String nqn = VolumeNames.volumeNqn(volume);
    Map<Integer, Block> blocks = model.computeIfAbsent(volume, v -> new TreeMap<>());
    int b = random.nextInt(BLOCKS);
    long value = ++counter;
    IoResult w = host.write(nqn, (long) b * BLOCK, encode(value));
    Block block = blocks.computeIfAbsent(b, k -> new Block());
    if (w instanceof IoResult.Ok) {
      block.acked = value;
      block.unsure.clear();
      acknowledged++;
    } else {
      block.unsure.add(value);
    }
    int r = random.nextInt(BLOCKS);
    String read = verify(volume, r, blocks.computeIfAbsent(r, k -> new Block()), false, sink);
    return kind(w) + read;
  }

  /** Reads every block back; on an Online volume every read must succeed. */
  void verifyAll(String volume, boolean online, Sink sink) {
    Map<Integer, Block> blocks = model.getOrDefault(volume, Map.of());
    blocks.forEach((b, block) -> verify(volume, b, block, online, sink));
  }

  private String verify(String volume, int b, Block block, boolean mustRead, Sink sink) {
    IoResult res = host.read(VolumeNames.volumeNqn(volume), (long) b * BLOCK, BLOCK);
    if (res instanceof IoResult.Ok ok) {
      Optional<Long> seen = decode(ok.data());
      if (seen.isEmpty()) {
        sink.violation(Violation.Invariant.ACKNOWLEDGED_WRITE_LOST, volume + "/" + b,
            "block " + b + " of " + volume + " read back corrupt (last acknowledged write #" + block.acked + ")");
      } else if (seen.get() != block.acked && !block.unsure.contains(seen.get())) {
        sink.violation(Violation.Invariant.ACKNOWLEDGED_WRITE_LOST, volume + "/" + b,
            "block " + b + " of " + volume + " read back write #" + seen.get() + " but the last acknowledged was #"
                + block.acked + (block.unsure.isEmpty() ? "" : " (unsure: " + block.unsure + ")"));
      } else {
        // What was read is now what the volume holds: later reads must agree with it.
        if (seen.get() != block.acked) {
          block.acked = seen.get();
          block.unsure.clear();
        }
      }
      return "r";
    }
    if (mustRead) {
      sink.violation(Violation.Invariant.ACKNOWLEDGED_WRITE_LOST, volume + "/" + b,
          "block " + b + " of Online volume " + volume + " cannot be read: " + res);
    }
    return kind(res).toUpperCase(java.util.Locale.ROOT);
  }

  private static String kind(IoResult r) {
    return r instanceof IoResult.Ok ? "o" : r instanceof IoResult.Retry ? "t" : "e";
  }

  static byte[] encode(long value) {
    ByteBuffer buf = ByteBuffer.allocate(BLOCK);
    buf.putLong(value);
    for (int i = 8; i < BLOCK; i += 8) {
      buf.putLong(value * 0x9E3779B97F4A7C15L + i);
    }
    return buf.array();
  }

  static Optional<Long> decode(byte[] data) {
    ByteBuffer buf = ByteBuffer.wrap(data);
    long value = buf.getLong();
    if (value == 0) {
      for (byte x : data) {
        if (x != 0) {
          return Optional.empty();
        }
      }
      return Optional.of(0L);
    }
    for (int i = 8; i < BLOCK; i += 8) {
      if (buf.getLong() != value * 0x9E3779B97F4A7C15L + i) {
        return Optional.empty();
      }
    }
    return Optional.of(value);
  }

  /** Where violations go. */
  interface Sink {
    void violation(Violation.Invariant invariant, String subject, String detail);
  }
}
