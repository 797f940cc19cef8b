package io.toma.kernel.sim;

import java.util.List;

/** dm-error: every I/O fails (a standby controller's placeholder, a fenced slice). */
record ErrorTarget(long lengthSectors) implements DmTarget {

  @Override
  public String type() {
    return "error";
  }

  @Override
  public String tableArgs() {
    return "";
  }

  @Override
  public String statusArgs() {
    return "";
  }

  @Override
  public List<SimBlockDevice> lowerDevices() {
    return List.of();
  }

  @Override
  public IoResult read(long offset, int length) {
    return new IoResult.Error("error target");
  }

  @Override
  public IoResult write(long offset, byte[] data) {
    return new IoResult.Error("error target");
  }

  @Override
  public long nextData(long from) {
    return lengthBytes();
  }
}
