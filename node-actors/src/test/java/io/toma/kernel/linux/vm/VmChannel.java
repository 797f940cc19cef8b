package io.toma.kernel.linux.vm;

import java.io.BufferedInputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Optional;

/**
 * The host end of the command channel: one TCP connection to the qemu-forwarded loopback port per
 * script. Sends the script, half-closes (the guest reads to EOF), reads the framed answer.
 */
final class VmChannel {

  private final int port;

  VmChannel(int port) {
    this.port = port;
  }

  int port() {
    return port;
  }

  /** Empty when the guest did not serve the connection (not listening yet): the script did not run. */
  Optional<VmResult> tryExec(String script, Duration timeout) throws IOException {
    try (Socket socket = new Socket()) {
      socket.connect(new InetSocketAddress(InetAddress.getLoopbackAddress(), port), 5_000);
      socket.setSoTimeout(Math.toIntExact(Math.max(1, timeout.toMillis())));
      OutputStream out = socket.getOutputStream();
      out.write(script.getBytes(StandardCharsets.UTF_8));
      out.flush();
      socket.shutdownOutput();
      return ChannelResponse.read(new BufferedInputStream(socket.getInputStream()));
    }
  }
}
