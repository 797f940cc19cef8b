package io.toma.kernel.sim;

import io.toma.kernel.DesiredState.DmTableLine;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.OptionalLong;

/**
 * A device-mapper device: a live table, an optional inactive table (loaded by reload, swapped in
 * at resume) and a suspended flag.
 *
 * <p>Suspension: I/O is synchronous in the simulator, so nothing is ever in flight when a device
 * is suspended; I/O sent to a suspended device answers {@link IoResult.Retry} ("held"), and the
 * caller repeats it after the resume. Hence {@code noFlush} changes nothing here.
 */
final class SimDmDevice implements SimBlockDevice {
  private final String name;
  private final int minor;
  private List<DmTableParser.Segment> live;
  private Optional<List<DmTableParser.Segment>> inactive = Optional.empty();
  private boolean suspended;

  SimDmDevice(String name, int minor, List<DmTableParser.Segment> table, long nowNanos) {
    this.name = name;
    this.minor = minor;
    this.live = List.copyOf(table);
    live.forEach(segment -> segment.target().activate(nowNanos));
  }

  String name() {
    return name;
  }

  String majorMinor() {
    return "253:" + minor;
  }

  int minor() {
    return minor;
  }

  boolean suspended() {
    return suspended;
  }

  void load(List<DmTableParser.Segment> table) {
    inactive.ifPresent(SimDmDevice::deactivateAll);
    inactive = Optional.of(List.copyOf(table));
  }

  void suspend() {
    suspended = true;
  }

  void resume(long nowNanos) {
    if (inactive.isPresent()) {
      deactivateAll(live);
      live = inactive.get();
      inactive = Optional.empty();
      live.forEach(segment -> segment.target().activate(nowNanos));
    } else {
      live.forEach(segment -> segment.target().resumedInPlace(nowNanos));
    }
    suspended = false;
  }

  void remove() {
    deactivateAll(live);
    inactive.ifPresent(SimDmDevice::deactivateAll);
  }

  private static void deactivateAll(List<DmTableParser.Segment> table) {
    table.forEach(segment -> segment.target().deactivate());
  }

  /** Devices held open by the live or the inactive table. */
  List<SimBlockDevice> holds() {
    List<SimBlockDevice> held = new ArrayList<>();
    live.forEach(segment -> held.addAll(segment.target().lowerDevices()));
    inactive.ifPresent(table -> table.forEach(segment -> held.addAll(segment.target().lowerDevices())));
    return held;
  }

  List<DmTableLine> tableLines() {
    return live.stream()
        .map(s -> new DmTableLine(s.start(), s.target().lengthSectors(), s.target().type(), s.target().tableArgs()))
        .toList();
  }

  /** `dmsetup status` lines: "start length type status-args". */
  String status() {
    List<String> lines = new ArrayList<>();
    for (DmTableParser.Segment segment : live) {
      String args = segment.target().statusArgs();
      lines.add(segment.start() + " " + segment.target().lengthSectors() + " " + segment.target().type()
          + (args.isEmpty() ? "" : " " + args));
    }
    return String.join("\n", lines);
  }

  OptionalLong nextDeadlineNanos() {
    long earliest = Long.MAX_VALUE;
    for (DmTableParser.Segment segment : live) {
      OptionalLong deadline = segment.target().nextDeadlineNanos();
      if (deadline.isPresent()) {
        earliest = Math.min(earliest, deadline.getAsLong());
      }
    }
    return earliest == Long.MAX_VALUE ? OptionalLong.empty() : OptionalLong.of(earliest);
  }

  void onTime(long nowNanos) {
    live.forEach(segment -> segment.target().onTime(nowNanos, suspended));
  }

  @Override
  public long sizeBytes() {
    DmTableParser.Segment last = live.get(live.size() - 1);
    return (last.start() + last.target().lengthSectors()) * 512;
  }

  @Override
  public IoResult read(long offset, int length) {
    return io(offset, length, null);
  }

  @Override
  public IoResult write(long offset, byte[] data) {
    return io(offset, data.length, data);
  }

  private IoResult io(long offset, int length, byte[] writeData) {
    if (suspended) {
      return new IoResult.Retry(name + " is suspended: I/O held until resume");
    }
    var range = SimBlockDevice.outOfRange(this, offset, length);
    if (range.isPresent()) {
      return range.get();
    }
    return writeData == null
        ? MappedIo.read(this::extentAt, offset, length)
        : MappedIo.write(this::extentAt, offset, writeData);
  }

  /** The segment under {@code offset}, seen as a device of its own. */
  private MappedIo.Extent extentAt(long offset) {
    for (DmTableParser.Segment segment : live) {
      long start = segment.start() * 512;
      long end = start + segment.target().lengthBytes();
      if (offset >= start && offset < end) {
        return new MappedIo.Extent(new TargetAsDevice(segment.target()), offset - start, end - offset);
      }
    }
    throw new IllegalStateException("offset " + offset + " outside " + name);
  }

  @Override
  public long nextData(long from) {
    for (DmTableParser.Segment segment : live) {
      long start = segment.start() * 512;
      long end = start + segment.target().lengthBytes();
      if (from < end) {
        long next = start + segment.target().nextData(Math.max(0, from - start));
        if (next < end) {
          return Math.max(next, from);
        }
      }
    }
    return sizeBytes();
  }

  /** Lets MappedIo address one table line like a device. */
  private record TargetAsDevice(DmTarget target) implements SimBlockDevice {
    @Override
    public long sizeBytes() {
      return target.lengthBytes();
    }

    @Override
    public IoResult read(long offset, int length) {
      return target.read(offset, length);
    }

    @Override
    public IoResult write(long offset, byte[] data) {
      return target.write(offset, data);
    }

    @Override
    public long nextData(long from) {
      return target.nextData(from);
    }
  }
}
