package io.toma.kernel.sim.wire;

import io.toma.kernel.sim.FabricExports.DiscoveryEntry;
import java.io.BufferedInputStream;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.util.ArrayList;
import java.util.List;

/** nvme discover against a node in another process: what its targets offer a host NQN. */
public final class WireDiscovery {
  private WireDiscovery() {}

  /**
   * The discovery log page of the node at {@code fabricAddress}, served at {@code server}; call it
   * without holding the simulation's lock.
   *
   * @throws IOException when the node does not answer (down, cut off) within {@code timeoutMillis}
   */
  public static List<DiscoveryEntry> discover(InetSocketAddress server, String fabricAddress, String hostNqn,
      int timeoutMillis) throws IOException {
    try (Socket socket = new Socket()) {
      socket.connect(server, timeoutMillis);
      socket.setSoTimeout(timeoutMillis);
      DataOutputStream out = new DataOutputStream(socket.getOutputStream());
      out.writeInt(WireFrame.DISCOVER);
      out.writeInt(0);
      out.writeUTF(fabricAddress);
      out.writeUTF(hostNqn);
      out.flush();
      DataInputStream in = new DataInputStream(new BufferedInputStream(socket.getInputStream()));
      WireFrame.Header h = WireFrame.readHeader(in);
      if (h.type() != WireFrame.DISCOVERED) {
        throw new IOException("not a discovery answer: " + h.type());
      }
      int count = in.readInt();
      List<DiscoveryEntry> entries = new ArrayList<>(count);
      for (int i = 0; i < count; i++) {
        entries.add(new DiscoveryEntry(in.readUTF(), in.readUTF(), in.readUTF(), in.readInt()));
      }
      return List.copyOf(entries);
    }
  }
}
