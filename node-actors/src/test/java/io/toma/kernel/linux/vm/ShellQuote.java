package io.toma.kernel.linux.vm;

import java.util.List;
import java.util.stream.Collectors;

/** Quotes words for POSIX sh, so an argv list survives the trip through a script unchanged. */
public final class ShellQuote {

  private ShellQuote() {}

  /** One word: left bare when it is plainly safe, else in single quotes ({@code '} as {@code '\''}). */
  public static String quote(String word) {
    if (!word.isEmpty() && word.matches("[A-Za-z0-9_./:=,@%+-]+")) {
      return word;
    }
    return "'" + word.replace("'", "'\\''") + "'";
  }

  /** A command line that runs exactly {@code argv}. */
  public static String command(List<String> argv) {
    if (argv.isEmpty()) {
      throw new IllegalArgumentException("empty argv");
    }
    return argv.stream().map(ShellQuote::quote).collect(Collectors.joining(" "));
  }
}
