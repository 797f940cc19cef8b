package io.toma.kernel.linux.vm;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * The qemu command line of the test VM, as a pure function of its inputs.
 *
 * <p>Always TCG ({@code -enable-kvm} hangs at "Booting from ROM" on these machines). Networking is
 * qemu's user mode with {@code restrict=on}: the guest reaches nothing outside, and the only way in
 * is the command channel forwarded from 127.0.0.1 on the host. NVMe-oF traffic stays on the
 * guest's own loopback, or on point-to-point links to other test VMs ({@link VmLink}) when a
 * scenario needs nodes in separate kernels.
 */
final class QemuCommandLine {

  /** The guest's channel port (tools/qemu/guest/toma-channel reads it from the command line). */
  static final int GUEST_PORT = 5555;

  private QemuCommandLine() {}

  static List<String> build(Path qemu, VmImage image, QemuVm.Options options, int hostPort, Path consoleLog) {
    String kernelArgs = String.join(" ",
        "console=ttyS0",
        "panic=-1", // a panic ends qemu (-no-reboot) instead of hanging until the boot timeout
        "loglevel=" + options.consoleLogLevel(),
        "toma.disks=" + options.disks(),
        "toma.disk_mb=" + options.diskSizeMb(),
        "toma.port=" + GUEST_PORT,
        "toma.idle=" + options.idlePowerOff().toSeconds());
    List<String> argv = new ArrayList<>(List.of(
        qemu.toString(),
        "-accel", "tcg",
        "-cpu", "max",
        "-m", Integer.toString(options.memoryMb()),
        "-smp", Integer.toString(options.cpus()),
        "-display", "none",
        "-monitor", "none",
        "-serial", "file:" + consoleLog,
        "-no-reboot",
        "-kernel", image.kernel().toString(),
        "-initrd", image.initrd().toString(),
        "-append", kernelArgs,
        "-netdev", "user,id=channel,restrict=on,hostfwd=tcp:127.0.0.1:" + hostPort + "-:" + GUEST_PORT,
        // romfile= : no PXE option ROM needed (and none is looked for) with a direct kernel boot.
        "-device", "virtio-net-pci,netdev=channel,romfile="));
    // Links to other VMs come after the channel NIC, so the channel stays eth0 in the guest.
    for (int i = 0; i < options.links().size(); i++) {
      VmLink link = options.links().get(i);
      argv.addAll(List.of("-netdev", link.netdev("link" + i),
          "-device", "virtio-net-pci,netdev=link" + i + ",mac=" + link.mac() + ",romfile="));
    }
    return List.copyOf(argv);
  }
}
