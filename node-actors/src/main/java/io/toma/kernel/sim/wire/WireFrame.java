package io.toma.kernel.sim.wire;

import io.toma.kernel.DesiredState.AnaState;
import io.toma.kernel.DesiredState.ConnectTimeouts;
import io.toma.kernel.DesiredState.FabricConnection;
import io.toma.kernel.sim.FabricExports.ExportedNamespace;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * The block protocol between simulated kernels in different processes, one TCP connection per
 * NVMe-oF association. Every frame is {@code int type, int request id} and a payload; the host
 * sends requests, the target answers each with the same request id.
 *
 * <pre>
 * host → target                          target → host
 * CONNECT connection (first frame)       ACCEPTED cntlid namespaces | REFUSED why (then closes)
 * DISCOVER address host-nqn (only frame)  DISCOVERED entries (then closes): nvme discover
 * READ nsid offset length                OK data latency | ERROR why | RETRY why
 * WRITE nsid offset data                 OK - latency | ERROR why | RETRY why
 * NEXT_DATA nsid from                    NEXT offset
 * KEEP_ALIVE                             STATUS namespaces (sizes, ANA states)
 * any request once the association is    LOST why (then closes): node down, subsystem no longer
 *   gone                                   exported, or the host NQN revoked (the fence)
 * </pre>
 */
final class WireFrame {
  static final int CONNECT = 1;
  static final int READ = 2;
  static final int WRITE = 3;
  static final int NEXT_DATA = 4;
  static final int KEEP_ALIVE = 5;
  static final int DISCOVER = 6;

  static final int ACCEPTED = 10;
  static final int REFUSED = 11;
  static final int OK = 12;
  static final int ERROR = 13;
  static final int RETRY = 14;
  static final int NEXT = 15;
  static final int STATUS = 16;
  static final int LOST = 17;
  static final int DISCOVERED = 18;

  /** A frame as read: its type, request id, and the stream positioned at its payload. */
  record Header(int type, int requestId) {}

  private WireFrame() {}

  static Header readHeader(DataInputStream in) throws IOException {
    return new Header(in.readInt(), in.readInt());
  }

  static void writeConnection(DataOutputStream out, FabricConnection c) throws IOException {
    out.writeUTF(c.subsystemNqn());
    out.writeUTF(c.transport());
    out.writeUTF(c.address());
    out.writeInt(c.serviceId());
    out.writeUTF(c.hostNqn());
    ConnectTimeouts t = c.timeouts();
    out.writeInt(t.keepAlive());
    out.writeInt(t.ctrlLoss());
    out.writeInt(t.reconnectDelay());
    out.writeInt(t.fastIoFail().orElse(-1));
  }

  static FabricConnection readConnection(DataInputStream in) throws IOException {
    String nqn = in.readUTF();
    String transport = in.readUTF();
    String address = in.readUTF();
    int serviceId = in.readInt();
    String hostNqn = in.readUTF();
    int keepAlive = in.readInt();
    int ctrlLoss = in.readInt();
    int reconnectDelay = in.readInt();
    int fastIoFail = in.readInt();
    return new FabricConnection(nqn, transport, address, serviceId, hostNqn, new ConnectTimeouts(
        keepAlive, ctrlLoss, reconnectDelay, fastIoFail < 0 ? Optional.empty() : Optional.of(fastIoFail)));
  }

  static void writeNamespaces(DataOutputStream out, List<ExportedNamespace> namespaces) throws IOException {
    out.writeInt(namespaces.size());
    for (ExportedNamespace ns : namespaces) {
      out.writeInt(ns.nsid());
      out.writeUTF(ns.uuid());
      out.writeLong(ns.sizeBytes());
      out.writeUTF(ns.ana().name());
    }
  }

  static List<ExportedNamespace> readNamespaces(DataInputStream in) throws IOException {
    int count = in.readInt();
    List<ExportedNamespace> namespaces = new ArrayList<>(count);
    for (int i = 0; i < count; i++) {
      namespaces.add(new ExportedNamespace(in.readInt(), in.readUTF(), in.readLong(), AnaState.valueOf(in.readUTF())));
    }
    return List.copyOf(namespaces);
  }

  static byte[] readBytes(DataInputStream in) throws IOException {
    int length = in.readInt();
    if (length < 0 || length > (64 << 20)) {
      throw new IOException("frame carries " + length + " bytes: not this protocol");
    }
    byte[] data = new byte[length];
    in.readFully(data);
    return data;
  }

  static void writeBytes(DataOutputStream out, byte[] data) throws IOException {
    out.writeInt(data.length);
    out.write(data);
  }
}
