package io.toma.kernel.linux.vm;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;

/**
 * The nvmet configfs tree of a VM as it was at one instant, fetched in one channel round trip:
 * every directory, every symlink with its target, every readable attribute with its content.
 * {@link VmHostIo} answers the backend's reads under the tree from it until the next call that
 * may change something, so one {@code LinuxKernel.read()} costs a handful of round trips instead
 * of one per attribute (the values are the kernel's own, read by the same kind of {@code read(2)}).
 */
final class ConfigfsSnapshot {

  sealed interface Entry {}

  record Dir() implements Entry {}

  record Link(String target) implements Entry {}

  record File(String content) implements Entry {}

  /** An attribute the kernel refused to read (write-only ones). */
  record Unreadable() implements Entry {}

  private final String root;
  private final Map<String, Entry> entries;

  private ConfigfsSnapshot(String root, Map<String, Entry> entries) {
    this.root = root;
    this.entries = entries;
  }

  /**
   * The script that prints the tree: shell builtins per entry and one subshell per attribute.
   * The subshell matters: a redirection that fails on a special builtin ends a POSIX shell, and
   * write-only attributes ({@code revalidate_size}) refuse to open for reading, which ended the
   * whole loop when the open was tested with {@code :}. Content lines are prefixed with '|', so
   * any byte but a newline survives; busybox ash ends the loop with the status of its last
   * test, hence the explicit exit 0.
   */
  static String script(String root) {
    return """
        find %1$s 2>/dev/null | while IFS= read -r p; do
          if [ -L "$p" ]; then printf 'L %%s\\n|%%s\\n' "$p" "$(readlink "$p")"
          elif [ -d "$p" ]; then printf 'D %%s\\n' "$p"
          else
            (exec 3< "$p" && printf 'F %%s\\n' "$p" &&
              while IFS= read -r line <&3 || [ -n "$line" ]; do printf '|%%s\\n' "$line"; done) 2>/dev/null ||
              printf 'E %%s\\n' "$p"
          fi
        done
        exit 0
        """.formatted(ShellQuote.quote(root));
  }

  static ConfigfsSnapshot parse(String root, String output) {
    Map<String, Entry> entries = new TreeMap<>();
    String path = null;
    char kind = 0;
    List<String> lines = new ArrayList<>();
    for (String line : output.split("\n", -1)) {
      if (line.startsWith("|")) {
        lines.add(line.substring(1));
        continue;
      }
      if (path != null) {
        entries.put(path, entry(kind, lines));
      }
      lines = new ArrayList<>();
      if (line.length() < 3) {
        path = null;
        continue;
      }
      kind = line.charAt(0);
      path = line.substring(2);
    }
    if (path != null) {
      entries.put(path, entry(kind, lines));
    }
    return new ConfigfsSnapshot(root, entries);
  }

  private static Entry entry(char kind, List<String> lines) {
    return switch (kind) {
      case 'D' -> new Dir();
      case 'L' -> new Link(lines.isEmpty() ? "" : lines.get(0));
      case 'F' -> new File(lines.isEmpty() ? "" : String.join("\n", lines) + "\n");
      default -> new Unreadable();
    };
  }

  boolean covers(String path) {
    return path.equals(root) || path.startsWith(root + "/");
  }

  Optional<Entry> get(String path) {
    return Optional.ofNullable(entries.get(path));
  }

  /** Sorted names directly inside {@code dir}; none if it is not a directory here. */
  List<String> children(String dir) {
    if (!(entries.get(dir) instanceof Dir)) {
      return List.of();
    }
    String prefix = dir + "/";
    List<String> out = new ArrayList<>();
    for (String p : entries.keySet()) {
      if (p.startsWith(prefix) && p.indexOf('/', prefix.length()) < 0) {
        out.add(p.substring(prefix.length()));
      }
    }
    return List.copyOf(out);
  }
}
