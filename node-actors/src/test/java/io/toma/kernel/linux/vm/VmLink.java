package io.toma.kernel.linux.vm;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.DatagramSocket;
import java.net.InetAddress;

/**
 * One end of a point-to-point Ethernet link between two test VMs: qemu's {@code socket} netdev
 * in UDP mode, sending to {@code remoteUdpPort} and receiving on {@code localUdpPort}, both on the
 * host's loopback. UDP needs no start order (a TCP socket netdev would need the listening VM
 * first); frames sent before the peer is up are lost and TCP in the guests retransmits them.
 * The guest finds the NIC by its {@code mac}.
 */
public record VmLink(int localUdpPort, int remoteUdpPort, String mac) {

  public VmLink {
    if (!mac.matches("52:54:00(:[0-9a-f]{2}){3}")) {
      throw new IllegalArgumentException("a locally administered qemu MAC 52:54:00:xx:xx:xx expected: " + mac);
    }
  }

  /** The two ends of a new link, on two free UDP ports. */
  public static VmLink[] pair(String macA, String macB) {
    int a = freeUdpPort();
    int b = freeUdpPort();
    while (b == a) {
      b = freeUdpPort();
    }
    return new VmLink[] {new VmLink(a, b, macA), new VmLink(b, a, macB)};
  }

  /** The qemu {@code -netdev} value for this end. */
  String netdev(String id) {
    return "socket,id=" + id + ",udp=127.0.0.1:" + remoteUdpPort + ",localaddr=127.0.0.1:" + localUdpPort;
  }

  private static int freeUdpPort() {
    try (DatagramSocket socket = new DatagramSocket(0, InetAddress.getLoopbackAddress())) {
      return socket.getLocalPort();
    } catch (IOException e) {
      throw new UncheckedIOException("no free loopback UDP port", e);
    }
  }
}
