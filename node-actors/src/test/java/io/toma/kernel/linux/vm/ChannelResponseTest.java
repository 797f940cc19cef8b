package io.toma.kernel.linux.vm;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.Optional;
import org.junit.jupiter.api.Test;

class ChannelResponseTest {

  private static Optional<VmResult> parse(String wire) throws IOException {
    return ChannelResponse.read(new ByteArrayInputStream(wire.getBytes(StandardCharsets.UTF_8)));
  }

  @Test
  void theByteCountsKeepStdoutAndStderrApartWhateverTheyContain() throws IOException {
    String out = "TOMA-EXEC 1 2 3\nline\n";
    String err = "oops\n";
    VmResult result = parse("TOMA-EXEC 3 " + out.length() + " " + err.length() + "\n" + out + err).orElseThrow();
    assertEquals(new VmResult(3, out, err), result);
  }

  @Test
  void emptyStreamsAreEmptyStrings() throws IOException {
    assertEquals(new VmResult(0, "", ""), parse("TOMA-EXEC 0 0 0\n").orElseThrow());
  }

  @Test
  void aConnectionClosedBeforeAnyByteMeansTheScriptDidNotRun() throws IOException {
    assertTrue(parse("").isEmpty());
  }

  @Test
  void aTruncatedAnswerIsAnErrorNotAShortOutput() {
    IOException e = assertThrows(IOException.class, () -> parse("TOMA-EXEC 0 10 0\nabc"));
    assertTrue(e.getMessage().contains("3 of 10 stdout bytes"), e.getMessage());
  }

  @Test
  void anythingButTheHeaderIsRefused() {
    assertThrows(IOException.class, () -> parse("sh: syntax error\n"));
    assertThrows(IOException.class, () -> parse("TOMA-EXEC x 0 0\n"));
    assertThrows(IOException.class, () -> parse("TOMA-EXEC 0 0"));
  }
}
