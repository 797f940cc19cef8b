package io.toma.kernel.sim.wire;

import io.toma.kernel.DesiredState.AnaState;
import io.toma.kernel.DesiredState.FabricConnection;
import io.toma.kernel.sim.FabricEndpoint;
import io.toma.kernel.sim.FabricExports.ExportedNamespace;
import io.toma.kernel.sim.IoResult;
import io.toma.kernel.sim.SimClock;
import java.io.DataInputStream;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalInt;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.function.Function;

/**
 * The host side of the simulated fabric for targets in other processes: each NVMe-oF association
 * is a TCP connection ({@link WireSession}) to the target process's {@link WireTargetServer}.
 *
 * <p>As in the in-process fabric, the association is the link state: it is lost when the socket
 * breaks (the target process was killed: loopback answers with a reset at once), when the target
 * says so (subsystem unexported, host NQN revoked), or when keep-alives go unanswered for the
 * connection's keep-alive timeout (a partition: nothing answers at all). The host side then
 * reconnects and deletes the controller after ctrl_loss_tmo, as it does in process.
 *
 * <p>The simulation runs under one lock (the clock's monitor). A call that waits for the network
 * releases it ({@code lock.wait}) so this process's target server can serve a peer that is itself
 * waiting on us: two processes calling each other never deadlock.
 */
public final class WireFabric implements FabricEndpoint, AutoCloseable {
  /** How often live associations are probed; also how soon a host sees an ANA change. */
  public static final Duration KEEP_ALIVE_EVERY = Duration.ofMillis(100);
  private static final int CONNECT_TIMEOUT_MILLIS = 1000;

  private record Key(String fromNode, FabricConnection connection) {}

  private final Object lock;
  private final Function<String, InetSocketAddress> resolver;
  private final Map<Key, WireSession> sessions = new ConcurrentHashMap<>();
  private final ScheduledExecutorService timer;
  /** Connects block up to their timeout: on their own threads, never the timer's. */
  private final java.util.concurrent.ExecutorService connector = Executors.newCachedThreadPool(r -> {
    Thread t = new Thread(r, "toma-wire-connect");
    t.setDaemon(true);
    return t;
  });

  /**
   * @param lock the simulation's lock (the {@link SimClock} of the local cluster)
   * @param resolver the TCP address serving a fabric address's targets
   */
  public WireFabric(Object lock, Function<String, InetSocketAddress> resolver) {
    this.lock = lock;
    this.resolver = resolver;
    this.timer = Executors.newScheduledThreadPool(2, r -> {
      Thread t = new Thread(r, "toma-wire-host-timer");
      t.setDaemon(true);
      return t;
    });
    timer.scheduleWithFixedDelay(this::keepAlive, KEEP_ALIVE_EVERY.toMillis(), KEEP_ALIVE_EVERY.toMillis(),
        TimeUnit.MILLISECONDS);
  }

  /** Every fabric address served on the same TCP port (each node its own address). */
  public static Function<SimClock, FabricEndpoint> onPort(int port) {
    return clock -> new WireFabric(clock, address -> new InetSocketAddress(address, port));
  }

  private Optional<WireSession> live(String fromNode, FabricConnection c) {
    return Optional.ofNullable(sessions.get(new Key(fromNode, c))).filter(WireSession::alive);
  }

  @Override
  public Optional<String> connectRefusal(String fromNode, FabricConnection c) {
    Key key = new Key(fromNode, c);
    Optional.ofNullable(sessions.remove(key)).ifPresent(old -> old.die("replaced by a new connect"));
    CompletableFuture<WireSession.Opened> opening =
        CompletableFuture.supplyAsync(() -> WireSession.open(c, resolver.apply(c.address()), CONNECT_TIMEOUT_MILLIS),
            connector);
    Optional<WireSession.Opened> opened = await(opening, Duration.ofMillis(3L * CONNECT_TIMEOUT_MILLIS));
    if (opened.isEmpty()) {
      return Optional.of("Connection timed out");
    }
    if (opened.get() instanceof WireSession.Refused refused) {
      return Optional.of(refused.why());
    }
    sessions.put(key, ((WireSession.Established) opened.get()).session());
    return Optional.empty();
  }

  @Override
  public boolean associationUp(String fromNode, FabricConnection c) {
    return live(fromNode, c).isPresent();
  }

  @Override
  public OptionalInt allocateCntlid(String fromNode, FabricConnection c) {
    return live(fromNode, c).map(s -> OptionalInt.of(s.cntlid())).orElse(OptionalInt.empty());
  }

  @Override
  public List<RemoteNamespace> namespaces(String fromNode, FabricConnection c) {
    return live(fromNode, c).map(s -> s.namespaces().stream()
        .map(ns -> new RemoteNamespace(ns.nsid(), ns.uuid())).toList()).orElse(List.of());
  }

  @Override
  public Optional<AnaState> anaState(String fromNode, FabricConnection c, int nsid) {
    return live(fromNode, c).flatMap(s -> s.namespace(nsid)).map(ExportedNamespace::ana);
  }

  @Override
  public Optional<Long> namespaceSize(String fromNode, FabricConnection c, int nsid) {
    return live(fromNode, c).flatMap(s -> s.namespace(nsid)).map(ExportedNamespace::sizeBytes);
  }

  @Override
  public IoResult read(String fromNode, FabricConnection c, int nsid, long offset, int length) {
    return io(fromNode, c, WireFrame.READ, out -> {
      out.writeInt(nsid);
      out.writeLong(offset);
      out.writeInt(length);
    });
  }

  @Override
  public IoResult write(String fromNode, FabricConnection c, int nsid, long offset, byte[] data) {
    return io(fromNode, c, WireFrame.WRITE, out -> {
      out.writeInt(nsid);
      out.writeLong(offset);
      WireFrame.writeBytes(out, data);
    });
  }

  @Override
  public long nextData(String fromNode, FabricConnection c, int nsid, long from) {
    Optional<WireSession> session = live(fromNode, c);
    if (session.isEmpty()) {
      return from;
    }
    Optional<WireSession.Reply> reply = await(session.get().call(WireFrame.NEXT_DATA, out -> {
      out.writeInt(nsid);
      out.writeLong(from);
    }), ioTimeout(c));
    try {
      return reply.filter(r -> r.type() == WireFrame.NEXT).isPresent()
          ? Math.max(from, reply.get().in().readLong()) : from;
    } catch (IOException e) {
      return from;
    }
  }

  @Override
  public void disconnected(String fromNode, FabricConnection c) {
    Optional.ofNullable(sessions.remove(new Key(fromNode, c))).ifPresent(s -> s.die("disconnected by the host"));
  }

  private IoResult io(String fromNode, FabricConnection c, int type, WireSession.WirePayload payload) {
    Optional<WireSession> session = live(fromNode, c);
    if (session.isEmpty()) {
      return new IoResult.Retry("path to " + c.subsystemNqn() + " lost: requeuing I/O");
    }
    Optional<WireSession.Reply> reply = await(session.get().call(type, payload), ioTimeout(c));
    if (reply.isEmpty()) {
      session.get().die("no answer to an I/O within " + ioTimeout(c).toMillis() + " ms");
      return new IoResult.Retry("path to " + c.subsystemNqn() + " lost: requeuing I/O");
    }
    try {
      DataInputStream in = reply.get().in();
      return switch (reply.get().type()) {
        case WireFrame.OK -> new IoResult.Ok(WireFrame.readBytes(in), Duration.ofNanos(in.readLong()));
        case WireFrame.ERROR -> new IoResult.Error(in.readUTF());
        case WireFrame.RETRY -> new IoResult.Retry(in.readUTF());
        default -> new IoResult.Retry("path to " + c.subsystemNqn() + " lost (" + in.readUTF() + "): requeuing I/O");
      };
    } catch (IOException e) {
      return new IoResult.Retry("path to " + c.subsystemNqn() + " lost: requeuing I/O");
    }
  }

  /** An unanswered I/O counts as a lost association after the keep-alive timeout. */
  private static Duration ioTimeout(FabricConnection c) {
    return Duration.ofSeconds(Math.max(1, c.timeouts().keepAlive()));
  }

  /**
   * Waits for the network; holding the simulation's lock, releases it meanwhile (see class
   * comment). Empty when the answer did not come in time or the session died.
   */
  private <T> Optional<T> await(CompletableFuture<T> future, Duration timeout) {
    long deadline = System.nanoTime() + timeout.toNanos();
    if (Thread.holdsLock(lock)) {
      future.whenCompleteAsync((r, e) -> {
        synchronized (lock) {
          lock.notifyAll();
        }
      }, timer);
      while (!future.isDone()) {
        long left = deadline - System.nanoTime();
        if (left <= 0) {
          return Optional.empty();
        }
        try {
          lock.wait(Math.max(1, TimeUnit.NANOSECONDS.toMillis(left)));
        } catch (InterruptedException e) {
          Thread.currentThread().interrupt();
          return Optional.empty();
        }
      }
    }
    try {
      return Optional.ofNullable(future.get(Math.max(0, deadline - System.nanoTime()), TimeUnit.NANOSECONDS));
    } catch (ExecutionException | TimeoutException e) {
      return Optional.empty();
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return Optional.empty();
    }
  }

  /** Probes every live association; one silent for its keep-alive timeout is lost. */
  private void keepAlive() {
    long now = System.nanoTime();
    for (WireSession s : sessions.values()) {
      if (!s.alive()) {
        continue;
      }
      long silent = now - s.lastHeardNanos();
      if (silent > ioTimeout(s.connection()).toNanos()) {
        s.die("keep-alive timed out after " + TimeUnit.NANOSECONDS.toMillis(silent) + " ms");
      } else {
        s.call(WireFrame.KEEP_ALIVE, out -> { });
      }
    }
  }

  @Override
  public void close() {
    timer.shutdownNow();
    connector.shutdownNow();
    sessions.values().forEach(s -> s.die("host closed"));
    sessions.clear();
  }
}
