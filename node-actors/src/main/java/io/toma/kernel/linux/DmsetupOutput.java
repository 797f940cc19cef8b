package io.toma.kernel.linux;

import io.toma.kernel.DesiredState.DmTableLine;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/** Parsers for what dmsetup prints about every device at once (table, status, info). */
public final class DmsetupOutput {
  private DmsetupOutput() {}

  /** What {@code dmsetup info} (long form) says about one device. */
  public record DmInfo(String name, boolean suspended, int major, int minor) {}

  /**
   * {@code dmsetup table} / {@code dmsetup status} without a name: one line per target, each
   * prefixed by {@code name: }; "No devices found" when there are none.
   */
  public static Map<String, List<String>> linesByDevice(String text) {
    Map<String, List<String>> out = new TreeMap<>();
    for (String line : text.split("\n")) {
      int colon = line.indexOf(": ");
      if (line.isBlank() || line.startsWith("No devices found") || colon <= 0) {
        continue;
      }
      List<String> lines = out.computeIfAbsent(line.substring(0, colon), k -> new ArrayList<>());
      String rest = line.substring(colon + 2).trim();
      if (!rest.isEmpty()) { // a device without a table prints its name alone
        lines.add(rest);
      }
    }
    return out;
  }

  /** Parses one table line {@code start length target args...}. */
  public static DmTableLine tableLine(String line) {
    String[] f = line.trim().split("\\s+", 4);
    if (f.length < 3) {
      throw new IllegalArgumentException("not a dm table line: '" + line + "'");
    }
    return new DmTableLine(Long.parseLong(f[0]), Long.parseLong(f[1]), f[2], f.length == 4 ? f[3] : "");
  }

  /** {@code dmsetup info}: blocks of "Key: value" lines separated by blank lines. */
  public static Map<String, DmInfo> info(String text) {
    Map<String, DmInfo> out = new LinkedHashMap<>();
    String name = null;
    boolean suspended = false;
    int major = -1;
    int minor = -1;
    for (String line : (text + "\n\n").split("\n", -1)) {
      if (line.isBlank()) {
        if (name != null) {
          out.put(name, new DmInfo(name, suspended, major, minor));
        }
        name = null;
        suspended = false;
        major = -1;
        minor = -1;
        continue;
      }
      int colon = line.indexOf(':');
      if (colon < 0) {
        continue;
      }
      String key = line.substring(0, colon).trim();
      String value = line.substring(colon + 1).trim();
      switch (key) {
        case "Name" -> name = value;
        case "State" -> suspended = value.startsWith("SUSPENDED");
        case "Major, minor" -> {
          String[] mm = value.split(",");
          major = Integer.parseInt(mm[0].trim());
          minor = Integer.parseInt(mm[1].trim());
        }
        default -> { }
      }
    }
    return out;
  }
}
