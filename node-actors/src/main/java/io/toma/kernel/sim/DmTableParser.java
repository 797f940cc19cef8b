package io.toma.kernel.sim;

import io.toma.kernel.DesiredState.DmTableLine;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/** Builds live targets from table lines, refusing what the kernel's table load refuses. */
final class DmTableParser {

  /** The table load failed; {@code errno} is the text dmsetup prints, detail the target's error. */
  static final class TableError extends Exception {
    final String errno;

    TableError(String errno, String detail) {
      super(detail);
      this.errno = errno;
    }
  }

  record Segment(long start, DmTarget target) {}

  private final DeviceResolver resolver;
  private final long raidBandwidthBytesPerSecond;

  DmTableParser(DeviceResolver resolver, long raidBandwidthBytesPerSecond) {
    this.resolver = resolver;
    this.raidBandwidthBytesPerSecond = raidBandwidthBytesPerSecond;
  }

  List<Segment> parse(List<DmTableLine> table) throws TableError {
    if (table.isEmpty()) {
      throw new TableError("Invalid argument", "empty table");
    }
    List<Segment> segments = new ArrayList<>();
    long expectedStart = 0;
    for (DmTableLine line : table) {
      if (line.start() != expectedStart || line.length() <= 0) {
        throw new TableError("Invalid argument", "gap or overlap in the table at sector " + line.start());
      }
      segments.add(new Segment(line.start(), target(line)));
      expectedStart += line.length();
    }
    return segments;
  }

  private DmTarget target(DmTableLine line) throws TableError {
    String args = line.args() == null ? "" : line.args().trim();
    List<String> words = args.isEmpty() ? List.of() : Arrays.asList(args.split("\\s+"));
    try {
      return switch (line.target()) {
        case "linear" -> linear(line.length(), words);
        case "striped" -> striped(line.length(), words);
        case "error" -> new ErrorTarget(line.length());
        case "raid" -> Raid1Target.construct(line.length(), words, resolver, raidBandwidthBytesPerSecond);
        default -> throw new TableError("Invalid argument", "unknown target type " + line.target());
      };
    } catch (DeviceResolver.LookupFailed e) {
      throw new TableError("No such device or address", e.getMessage());
    } catch (Raid1Target.ConstructorError e) {
      throw new TableError("Invalid argument", e.getMessage());
    }
  }

  private DmTarget linear(long length, List<String> words) throws TableError, DeviceResolver.LookupFailed {
    if (words.size() != 2) {
      throw new TableError("Invalid argument", "Invalid argument count");
    }
    long offset = sectors(words.get(1), "Invalid device sector");
    DevRef device = resolver.resolve(words.get(0));
    requireFits(device, offset, length);
    return new LinearTarget(length, device, offset);
  }

  private DmTarget striped(long length, List<String> words) throws TableError, DeviceResolver.LookupFailed {
    if (words.size() < 2) {
      throw new TableError("Invalid argument", "Not enough arguments");
    }
    long stripes = sectors(words.get(0), "Invalid stripe count");
    long chunk = sectors(words.get(1), "Invalid chunk_size");
    if (stripes < 1 || words.size() != 2 + 2 * stripes) {
      throw new TableError("Invalid argument", "Not enough destinations specified");
    }
    if (chunk < 8 || Long.bitCount(chunk) != 1) {
      throw new TableError("Invalid argument", "Invalid chunk_size");
    }
    if (length % stripes != 0) {
      throw new TableError("Invalid argument", "Target length not divisible by number of stripes");
    }
    long width = length / stripes;
    if (width % chunk != 0) {
      throw new TableError("Invalid argument", "Target length not divisible by chunk size");
    }
    List<DevRef> devices = new ArrayList<>();
    List<Long> offsets = new ArrayList<>();
    for (int i = 0; i < stripes; i++) {
      DevRef device = resolver.resolve(words.get(2 + 2 * i));
      long offset = sectors(words.get(3 + 2 * i), "Invalid stripe destination");
      requireFits(device, offset, width);
      devices.add(device);
      offsets.add(offset);
    }
    return new StripedTarget(length, chunk, devices, offsets);
  }

  private static void requireFits(DevRef device, long offsetSectors, long lengthSectors) throws TableError {
    if ((offsetSectors + lengthSectors) * 512 > device.device().sizeBytes()) {
      throw new TableError("Invalid argument",
          device.majorMinor() + " too small for target: start=" + offsetSectors + ", len=" + lengthSectors
              + ", dev_size=" + device.device().sizeBytes() / 512);
    }
  }

  private static long sectors(String word, String error) throws TableError {
    try {
      long value = Long.parseLong(word);
      if (value < 0) {
        throw new NumberFormatException();
      }
      return value;
    } catch (NumberFormatException e) {
      throw new TableError("Invalid argument", error);
    }
  }
}
