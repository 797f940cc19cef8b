package io.toma.kernel.sim.wire;

import io.toma.kernel.DesiredState.FabricConnection;
import io.toma.kernel.sim.FabricExports;
import io.toma.kernel.sim.IoResult;
import java.io.BufferedInputStream;
import java.io.BufferedOutputStream;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Serves the nvmet targets of this process's simulated nodes to hosts in other processes: one
 * listening socket, one thread per association. Each command runs holding the simulation's lock
 * and is checked against the target as it is now, so a revoked host NQN loses its association at
 * its next command or keep-alive.
 */
public final class WireTargetServer implements AutoCloseable {
  private static final Logger log = LoggerFactory.getLogger(WireTargetServer.class);

  private final FabricExports exports;
  private final ServerSocket listener;
  private final Set<Socket> open = ConcurrentHashMap.newKeySet();
  private volatile boolean closed;

  private WireTargetServer(FabricExports exports, ServerSocket listener) {
    this.exports = exports;
    this.listener = listener;
  }

  /** Listens on {@code address} (port 0: any free port) and serves until closed. */
  public static WireTargetServer start(FabricExports exports, InetSocketAddress address) throws IOException {
    ServerSocket listener = new ServerSocket();
    listener.setReuseAddress(true);
    listener.bind(address, 64);
    WireTargetServer server = new WireTargetServer(exports, listener);
    Thread accept = new Thread(server::acceptLoop, "toma-wire-accept-" + listener.getLocalPort());
    accept.setDaemon(true);
    accept.start();
    return server;
  }

  public InetSocketAddress address() {
    return (InetSocketAddress) listener.getLocalSocketAddress();
  }

  private void acceptLoop() {
    while (!closed) {
      try {
        Socket socket = listener.accept();
        socket.setTcpNoDelay(true);
        open.add(socket);
        if (closed) {
          // accepted while close() ran: it may have passed over this socket, so drop it here
          socket.close();
          return;
        }
        Thread t = new Thread(() -> serve(socket), "toma-wire-target-" + socket.getPort());
        t.setDaemon(true);
        t.start();
      } catch (IOException e) {
        if (!closed) {
          log.warn("NVMe-oF wire target on {}: accept failed ({}); still listening", address(), e.toString());
        }
      }
    }
  }

  private record Answer(int type, Frame payload) {}

  @FunctionalInterface
  private interface Frame {
    void write(DataOutputStream out) throws IOException;
  }

  private void serve(Socket socket) {
    Optional<FabricConnection> association = Optional.empty();
    int cntlid = 0;
    try (socket) {
      DataInputStream in = new DataInputStream(new BufferedInputStream(socket.getInputStream()));
      DataOutputStream out = new DataOutputStream(new BufferedOutputStream(socket.getOutputStream()));
      WireFrame.Header first = WireFrame.readHeader(in);
      if (first.type() == WireFrame.DISCOVER) {
        String address = in.readUTF();
        String hostNqn = in.readUTF();
        List<FabricExports.DiscoveryEntry> entries;
        synchronized (exports.lock()) {
          entries = exports.discover(address, hostNqn);
        }
        send(out, first.requestId(), new Answer(WireFrame.DISCOVERED, o -> {
          o.writeInt(entries.size());
          for (FabricExports.DiscoveryEntry e : entries) {
            o.writeUTF(e.subsystemNqn());
            o.writeUTF(e.transport());
            o.writeUTF(e.address());
            o.writeInt(e.serviceId());
          }
        }));
        return;
      }
      if (first.type() != WireFrame.CONNECT) {
        return;
      }
      FabricConnection c = WireFrame.readConnection(in);
      FabricExports.ConnectAnswer answer;
      synchronized (exports.lock()) {
        answer = exports.connect(c);
      }
      if (answer instanceof FabricExports.Refused refused) {
        send(out, first.requestId(), new Answer(WireFrame.REFUSED, o -> o.writeUTF(refused.why())));
        return;
      }
      FabricExports.Accepted accepted = (FabricExports.Accepted) answer;
      association = Optional.of(c);
      cntlid = accepted.cntlid();
      send(out, first.requestId(), new Answer(WireFrame.ACCEPTED, o -> {
        o.writeInt(accepted.cntlid());
        WireFrame.writeNamespaces(o, accepted.namespaces());
      }));
      while (!closed) {
        WireFrame.Header h = WireFrame.readHeader(in);
        Answer a = handle(h.type(), in, c);
        send(out, h.requestId(), a);
        if (a.type() == WireFrame.LOST) {
          return;
        }
      }
    } catch (IOException e) {
      // The host went away (disconnect, process killed) or the link broke: the association ends.
    } finally {
      open.remove(socket);
      if (association.isPresent()) {
        synchronized (exports.lock()) {
          exports.release(association.get(), cntlid);
        }
      }
    }
  }

  private Answer handle(int type, DataInputStream in, FabricConnection c) throws IOException {
    // Read the whole request before taking the lock: a slow sender must not hold the simulation.
    int nsid = 0;
    long offset = 0;
    int length = 0;
    byte[] data = new byte[0];
    switch (type) {
      case WireFrame.READ -> {
        nsid = in.readInt();
        offset = in.readLong();
        length = in.readInt();
      }
      case WireFrame.WRITE -> {
        nsid = in.readInt();
        offset = in.readLong();
        data = WireFrame.readBytes(in);
      }
      case WireFrame.NEXT_DATA -> {
        nsid = in.readInt();
        offset = in.readLong();
      }
      case WireFrame.KEEP_ALIVE -> { }
      default -> throw new IOException("unknown request type " + type);
    }
    synchronized (exports.lock()) {
      Optional<String> lost = exports.associationLost(c);
      if (lost.isPresent()) {
        return new Answer(WireFrame.LOST, o -> o.writeUTF(lost.get()));
      }
      return switch (type) {
        case WireFrame.READ -> io(exports.read(c, nsid, offset, length));
        case WireFrame.WRITE -> io(exports.write(c, nsid, offset, data));
        case WireFrame.NEXT_DATA -> {
          long next = exports.nextData(c, nsid, offset);
          yield new Answer(WireFrame.NEXT, o -> o.writeLong(next));
        }
        default -> {
          var namespaces = exports.namespaces(c);
          yield new Answer(WireFrame.STATUS, o -> WireFrame.writeNamespaces(o, namespaces));
        }
      };
    }
  }

  private static Answer io(IoResult result) {
    if (result instanceof IoResult.Ok ok) {
      return new Answer(WireFrame.OK, o -> {
        WireFrame.writeBytes(o, ok.data());
        o.writeLong(ok.latency().toNanos());
      });
    }
    if (result instanceof IoResult.Retry retry) {
      return new Answer(WireFrame.RETRY, o -> o.writeUTF(retry.reason()));
    }
    return new Answer(WireFrame.ERROR, o -> o.writeUTF(((IoResult.Error) result).reason()));
  }

  private static void send(DataOutputStream out, int requestId, Answer answer) throws IOException {
    out.writeInt(answer.type());
    out.writeInt(requestId);
    answer.payload().write(out);
    out.flush();
  }

  /** Stops listening and drops every association (as a target node that goes away). */
  @Override
  public void close() {
    closed = true;
    try {
      listener.close();
    } catch (IOException ignored) {
      // Closing cannot lose anything.
    }
    for (Socket s : open) {
      try {
        s.close();
      } catch (IOException ignored) {
        // Same.
      }
    }
  }
}
