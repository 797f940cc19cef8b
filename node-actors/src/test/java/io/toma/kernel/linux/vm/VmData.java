package io.toma.kernel.linux.vm;

import static io.toma.kernel.linux.vm.ShellQuote.quote;

/**
 * Data checks on block devices in the VM, by checksum: the scenarios write a pattern through one
 * path and read it back through another (the host's multipath head, a surviving raid leg, the
 * disk itself). Sizes and offsets are in MiB; all I/O is O_DIRECT so nothing is served from the
 * guest's page cache.
 */
public final class VmData {

  private final QemuVm vm;

  public VmData(QemuVm vm) {
    this.vm = vm;
  }

  /** Writes {@code sizeMib} MiB of random data at {@code offsetMib} and returns its MD5. */
  public String writeRandom(String device, long offsetMib, int sizeMib) {
    String file = "/tmp/toma-pattern." + Long.toHexString(System.nanoTime());
    String script = """
        set -e
        dd if=/dev/urandom of=%1$s bs=1M count=%4$d status=none
        dd if=%1$s of=%2$s bs=1M seek=%3$d count=%4$d oflag=direct conv=notrunc status=none
        md5sum < %1$s | cut -d' ' -f1
        rm -f %1$s
        """.formatted(file, quote(device), offsetMib, sizeMib);
    return vm.run(script).out();
  }

  /** MD5 of {@code sizeMib} MiB read at {@code offsetMib}. */
  public String md5(String device, long offsetMib, int sizeMib) {
    return vm.run("set -o pipefail 2>/dev/null; dd if=%s bs=1M skip=%d count=%d iflag=direct status=none | md5sum | cut -d' ' -f1"
        .formatted(quote(device), offsetMib, sizeMib)).out();
  }
}
