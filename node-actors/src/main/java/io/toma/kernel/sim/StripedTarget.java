package io.toma.kernel.sim;

import java.util.List;
import java.util.stream.Collectors;

/** dm-striped (raid0): {@code striped <#stripes> <chunk sectors> <dev> <offset> ...}. */
record StripedTarget(long lengthSectors, long chunkSectors, List<DevRef> devices, List<Long> offsets)
    implements DmTarget {

  StripedTarget {
    devices = List.copyOf(devices);
    offsets = List.copyOf(offsets);
  }

  @Override
  public String type() {
    return "striped";
  }

  @Override
  public String tableArgs() {
    StringBuilder args = new StringBuilder(devices.size() + " " + chunkSectors);
    for (int i = 0; i < devices.size(); i++) {
      args.append(' ').append(devices.get(i).majorMinor()).append(' ').append(offsets.get(i));
    }
    return args.toString();
  }

  @Override
  public String statusArgs() {
    // dm-stripe: "<#stripes> <dev>... 1 <health chars>"; a stripe stays 'A' (errors are not tracked).
    return devices.size() + " "
        + devices.stream().map(DevRef::majorMinor).collect(Collectors.joining(" "))
        + " 1 " + "A".repeat(devices.size());
  }

  @Override
  public List<SimBlockDevice> lowerDevices() {
    return devices.stream().map(DevRef::device).toList();
  }

  private MappedIo.Extent at(long offset) {
    long chunkBytes = chunkSectors * 512;
    long chunk = offset / chunkBytes;
    int stripe = (int) (chunk % devices.size());
    long chunkInStripe = chunk / devices.size();
    long within = offset % chunkBytes;
    return new MappedIo.Extent(
        devices.get(stripe).device(),
        offsets.get(stripe) * 512 + chunkInStripe * chunkBytes + within,
        chunkBytes - within);
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
    return from; // conservative: correct, only slower for callers that skip holes
  }
}
