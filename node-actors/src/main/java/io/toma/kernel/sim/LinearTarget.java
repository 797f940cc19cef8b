package io.toma.kernel.sim;

import java.util.List;

/** dm-linear: {@code linear <dev> <offset>}. */
record LinearTarget(long lengthSectors, DevRef device, long offsetSectors) implements DmTarget {

  @Override
  public String type() {
    return "linear";
  }

  @Override
  public String tableArgs() {
    return device.majorMinor() + " " + offsetSectors;
  }

  @Override
  public String statusArgs() {
    return "";
  }

  @Override
  public List<SimBlockDevice> lowerDevices() {
    return List.of(device.device());
  }

  private MappedIo.Extent at(long offset) {
    return new MappedIo.Extent(device.device(), offsetSectors * 512 + offset, lengthBytes() - offset);
  }

  @Override
  public IoResult read(long offset, int length) {
    return MappedIo.read(this::at, offset, length);
  }

  @Override
  public IoResult write(long offset, byte[] data) {
    return MappedIo.write(this::at, offset, data);
  }

  @Override
  public long nextData(long from) {
    long base = offsetSectors * 512;
    long next = device.device().nextData(base + from) - base;
    return Math.min(Math.max(next, from), lengthBytes());
  }
}
