package io.toma.kernel.linux.vm;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.util.Optional;

/**
 * The wire format of the guest's answer (tools/qemu/guest/toma-exec): one header line
 * {@code TOMA-EXEC <exit> <stdout bytes> <stderr bytes>}, then stdout, then stderr. The byte
 * counts keep the two streams apart whatever they contain.
 */
final class ChannelResponse {

  static final String MAGIC = "TOMA-EXEC";

  private ChannelResponse() {}

  /**
   * Reads one answer. Empty when the stream ended before any byte: the guest closed the
   * connection without serving it (its listener is not up yet), so the script did not run.
   */
  static Optional<VmResult> read(InputStream in) throws IOException {
    ByteArrayOutputStream header = new ByteArrayOutputStream();
    int b;
    while ((b = in.read()) != -1 && b != '\n') {
      header.write(b);
      if (header.size() > 200) {
        throw new IOException("no channel header in: " + header.toString(StandardCharsets.UTF_8));
      }
    }
    if (b == -1 && header.size() == 0) {
      return Optional.empty();
    }
    String line = header.toString(StandardCharsets.UTF_8);
    String[] fields = line.split(" ");
    if (b == -1 || fields.length != 4 || !fields[0].equals(MAGIC)) {
      throw new IOException("malformed channel header: \"" + line + "\"");
    }
    int exit;
    int outLength;
    int errLength;
    try {
      exit = Integer.parseInt(fields[1]);
      outLength = Integer.parseInt(fields[2]);
      errLength = Integer.parseInt(fields[3]);
    } catch (NumberFormatException e) {
      throw new IOException("malformed channel header: \"" + line + "\"", e);
    }
    String out = new String(readExactly(in, outLength, "stdout"), StandardCharsets.UTF_8);
    String err = new String(readExactly(in, errLength, "stderr"), StandardCharsets.UTF_8);
    return Optional.of(new VmResult(exit, out, err));
  }

  private static byte[] readExactly(InputStream in, int length, String what) throws IOException {
    byte[] bytes = in.readNBytes(length);
    if (bytes.length != length) {
      throw new IOException("channel closed after " + bytes.length + " of " + length + " " + what + " bytes");
    }
    return bytes;
  }
}
