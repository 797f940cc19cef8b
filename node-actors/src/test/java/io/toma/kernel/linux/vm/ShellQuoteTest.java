package io.toma.kernel.linux.vm;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

class ShellQuoteTest {

  @Test
  void plainWordsStayBareAndOthersAreSingleQuoted() {
    assertEquals("/sys/kernel/config/nvmet", ShellQuote.quote("/sys/kernel/config/nvmet"));
    assertEquals("nqn.2026-11.io.toma:vol-1", ShellQuote.quote("nqn.2026-11.io.toma:vol-1"));
    assertEquals("'0 8192 linear /dev/nullb0 0'", ShellQuote.quote("0 8192 linear /dev/nullb0 0"));
    assertEquals("''", ShellQuote.quote(""));
    assertEquals("'it'\\''s'", ShellQuote.quote("it's"));
  }

  @Test
  void aQuotedCommandGivesTheShellExactlyTheOriginalWords() throws Exception {
    List<String> words = List.of("a b", "it's", "\"q\"", "$HOME", "`id`", "back\\slash", "", "*", "new\nline", "-n");
    List<String> argv = new ArrayList<>(List.of("printf", "[%s]\\n"));
    argv.addAll(words);
    Process sh = new ProcessBuilder("sh", "-c", ShellQuote.command(argv)).redirectErrorStream(true).start();
    String out = new String(sh.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    assertEquals(0, sh.waitFor());
    StringBuilder expected = new StringBuilder();
    words.forEach(w -> expected.append('[').append(w).append("]\n"));
    assertEquals(expected.toString(), out);
  }

  @Test
  void anEmptyCommandIsRefused() {
    assertThrows(IllegalArgumentException.class, () -> ShellQuote.command(List.of()));
  }
}
