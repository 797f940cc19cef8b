package io.toma.kernel.sim.wire;

import io.toma.kernel.DesiredState.FabricConnection;
import io.toma.kernel.sim.FabricExports.ExportedNamespace;
import java.io.BufferedInputStream;
import java.io.BufferedOutputStream;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * The host end of one association over TCP: requests are sent as they come, a reader thread
 * completes them by request id, and every answer refreshes what the host knows of the target's
 * namespaces (size, ANA state). Once the socket breaks, the target answers LOST, or keep-alives go
 * unanswered, the session is dead for good; the host reconnects with a new one.
 */
final class WireSession {

  /** One answer: its type and payload, decoded by the caller. */
  record Reply(int type, byte[] payload) {
    DataInputStream in() {
      return new DataInputStream(new ByteArrayInputStream(payload));
    }
  }

  /** The outcome of opening a session. */
  sealed interface Opened {}

  record Established(WireSession session) implements Opened {}

  record Refused(String why) implements Opened {}

  private final FabricConnection connection;
  private final Socket socket;
  private final DataOutputStream out;
  private final int cntlid;
  private final Map<Integer, CompletableFuture<Reply>> pending = new ConcurrentHashMap<>();
  private final AtomicInteger nextId = new AtomicInteger(1);
  private volatile List<ExportedNamespace> namespaces;
  private volatile boolean alive = true;
  private volatile String deathReason = "";
  private volatile long lastHeardNanos = System.nanoTime();

  private WireSession(FabricConnection connection, Socket socket, DataOutputStream out, int cntlid,
      List<ExportedNamespace> namespaces) {
    this.connection = connection;
    this.socket = socket;
    this.out = out;
    this.cntlid = cntlid;
    this.namespaces = namespaces;
  }

  /** Connects and sends CONNECT; blocks at most about {@code timeoutMillis} twice. */
  static Opened open(FabricConnection c, InetSocketAddress target, int timeoutMillis) {
    Socket socket = new Socket();
    try {
      socket.setTcpNoDelay(true);
      socket.connect(target, timeoutMillis);
      socket.setSoTimeout(timeoutMillis);
      DataOutputStream out = new DataOutputStream(new BufferedOutputStream(socket.getOutputStream()));
      DataInputStream in = new DataInputStream(new BufferedInputStream(socket.getInputStream()));
      out.writeInt(WireFrame.CONNECT);
      out.writeInt(0);
      WireFrame.writeConnection(out, c);
      out.flush();
      WireFrame.Header h = WireFrame.readHeader(in);
      if (h.type() == WireFrame.REFUSED) {
        String why = in.readUTF();
        socket.close();
        return new Refused(why);
      }
      if (h.type() != WireFrame.ACCEPTED) {
        socket.close();
        return new Refused("Input/output error (unexpected answer " + h.type() + ")");
      }
      int cntlid = in.readInt();
      List<ExportedNamespace> namespaces = WireFrame.readNamespaces(in);
      socket.setSoTimeout(0);
      WireSession session = new WireSession(c, socket, out, cntlid, namespaces);
      Thread reader = new Thread(() -> session.readLoop(in), "toma-wire-host-" + socket.getLocalPort());
      reader.setDaemon(true);
      reader.start();
      return new Established(session);
    } catch (IOException e) {
      try {
        socket.close();
      } catch (IOException ignored) {
        // Nothing was established.
      }
      // The errno texts nvme connect prints: nothing listening, or no answer in time.
      return new Refused(e instanceof java.net.SocketTimeoutException ? "Connection timed out" : "Connection refused");
    }
  }

  FabricConnection connection() {
    return connection;
  }

  int cntlid() {
    return cntlid;
  }

  boolean alive() {
    return alive;
  }

  String deathReason() {
    return deathReason;
  }

  List<ExportedNamespace> namespaces() {
    return namespaces;
  }

  Optional<ExportedNamespace> namespace(int nsid) {
    return namespaces.stream().filter(ns -> ns.nsid() == nsid).findFirst();
  }

  long lastHeardNanos() {
    return lastHeardNanos;
  }

  /** Sends one request; the future completes with its answer, or exceptionally once the session dies. */
  CompletableFuture<Reply> call(int type, WirePayload payload) {
    CompletableFuture<Reply> reply = new CompletableFuture<>();
    if (!alive) {
      reply.completeExceptionally(new IOException("association lost: " + deathReason));
      return reply;
    }
    int id = nextId.getAndIncrement();
    pending.put(id, reply);
    try {
      ByteArrayOutputStream bytes = new ByteArrayOutputStream();
      DataOutputStream frame = new DataOutputStream(bytes);
      frame.writeInt(type);
      frame.writeInt(id);
      payload.write(frame);
      synchronized (out) {
        out.write(bytes.toByteArray());
        out.flush();
      }
    } catch (IOException e) {
      die("send failed: " + e.getMessage());
    }
    if (!alive) {
      reply.completeExceptionally(new IOException("association lost: " + deathReason));
    }
    return reply;
  }

  @FunctionalInterface
  interface WirePayload {
    void write(DataOutputStream out) throws IOException;
  }

  private void readLoop(DataInputStream in) {
    try {
      while (alive) {
        WireFrame.Header h = WireFrame.readHeader(in);
        lastHeardNanos = System.nanoTime();
        byte[] payload = switch (h.type()) {
          case WireFrame.OK -> {
            byte[] data = WireFrame.readBytes(in);
            long latency = in.readLong();
            ByteArrayOutputStream b = new ByteArrayOutputStream();
            DataOutputStream d = new DataOutputStream(b);
            WireFrame.writeBytes(d, data);
            d.writeLong(latency);
            yield b.toByteArray();
          }
          case WireFrame.ERROR, WireFrame.RETRY, WireFrame.LOST -> utf(in.readUTF());
          case WireFrame.NEXT -> {
            ByteArrayOutputStream b = new ByteArrayOutputStream();
            new DataOutputStream(b).writeLong(in.readLong());
            yield b.toByteArray();
          }
          case WireFrame.STATUS -> {
            namespaces = WireFrame.readNamespaces(in);
            yield new byte[0];
          }
          default -> throw new IOException("unknown answer type " + h.type());
        };
        if (h.type() == WireFrame.LOST) {
          die(new Reply(h.type(), payload).in().readUTF());
        }
        CompletableFuture<Reply> reply = pending.remove(h.requestId());
        if (reply != null) {
          reply.complete(new Reply(h.type(), payload));
        }
      }
    } catch (IOException e) {
      die("connection to " + connection.address() + " broken: " + e.getMessage());
    }
  }

  private static byte[] utf(String s) throws IOException {
    ByteArrayOutputStream b = new ByteArrayOutputStream();
    new DataOutputStream(b).writeUTF(s);
    return b.toByteArray();
  }

  /** The association is gone: fails what is pending, closes the socket. Idempotent. */
  void die(String reason) {
    if (alive) {
      deathReason = reason;
      alive = false;
    }
    try {
      socket.close();
    } catch (IOException ignored) {
      // Already closed or broken: the association is gone either way.
    }
    for (Integer id : List.copyOf(pending.keySet())) {
      CompletableFuture<Reply> reply = pending.remove(id);
      if (reply != null) {
        reply.completeExceptionally(new IOException("association lost: " + deathReason));
      }
    }
  }
}
