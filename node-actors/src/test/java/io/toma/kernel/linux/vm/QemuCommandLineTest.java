package io.toma.kernel.linux.vm;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;

class QemuCommandLineTest {

  private final VmImage image = new VmImage(Path.of("/cache/image/kernel"), Path.of("/cache/image/initrd.gz"), "6.1.0-56-amd64", "pvh-elf");

  private List<String> commandLine(QemuVm.Options options) {
    return QemuCommandLine.build(Path.of("/usr/bin/qemu-system-x86_64"), image, options, 40123, Path.of("/logs/console.log"));
  }

  private static String valueAfter(List<String> argv, String flag) {
    return argv.get(argv.indexOf(flag) + 1);
  }

  @Test
  void theVmIsEmulatedByTcgAndNeverAskedForKvm() {
    List<String> argv = commandLine(QemuVm.Options.defaults());
    assertEquals("tcg", valueAfter(argv, "-accel"));
    assertTrue(argv.stream().noneMatch(a -> a.contains("kvm")), "kvm appears in " + argv);
  }

  @Test
  void theOnlyWayIntoTheVmIsTheChannelForwardedFromHostLoopback() {
    List<String> argv = commandLine(QemuVm.Options.defaults());
    String netdev = valueAfter(argv, "-netdev");
    assertEquals("user,id=channel,restrict=on,hostfwd=tcp:127.0.0.1:40123-:5555", netdev);
    assertEquals(1, argv.stream().filter(a -> a.contains("hostfwd")).count());
    assertEquals(1, argv.stream().filter(a -> a.equals("-netdev")).count(), "exactly one network backend");
  }

  @Test
  void theKernelIsToldHowManyDisksOfWhichSizeToCreate() {
    List<String> argv = commandLine(QemuVm.Options.defaults().withDisks(4, 256));
    List<String> kernelArgs = List.of(valueAfter(argv, "-append").split(" "));
    assertTrue(kernelArgs.containsAll(List.of("toma.disks=4", "toma.disk_mb=256", "toma.port=5555", "console=ttyS0")), kernelArgs.toString());
    assertEquals(Integer.toString(512 + 4 * 256), valueAfter(argv, "-m"), "RAM for the kernel plus every disk full");
  }

  @Test
  void anExplicitMemorySizeWinsOverTheDiskBasedDefault() {
    assertEquals("3000", valueAfter(commandLine(QemuVm.Options.defaults().withMemoryMb(3000)), "-m"));
  }

  @Test
  void theConsoleGoesToTheLogFileAndAPanicEndsQemu() {
    List<String> argv = commandLine(QemuVm.Options.defaults());
    assertEquals("file:/logs/console.log", valueAfter(argv, "-serial"));
    assertTrue(argv.contains("-no-reboot"));
    assertTrue(valueAfter(argv, "-append").contains("panic=-1"));
    assertFalse(argv.contains("-nographic"), "stdio must not carry a console or monitor");
  }

  @Test
  void linksToOtherVmsAreExtraNicsOverLoopbackUdpAfterTheChannel() {
    VmLink link = new VmLink(41001, 41002, "52:54:00:00:01:02");
    List<String> argv = commandLine(QemuVm.Options.defaults().withLinks(List.of(link)));
    assertEquals("user,id=channel,restrict=on,hostfwd=tcp:127.0.0.1:40123-:5555", valueAfter(argv, "-netdev"),
        "the channel must stay the first NIC (eth0)");
    assertTrue(argv.contains("socket,id=link0,udp=127.0.0.1:41002,localaddr=127.0.0.1:41001"), argv.toString());
    assertTrue(argv.contains("virtio-net-pci,netdev=link0,mac=52:54:00:00:01:02,romfile="), argv.toString());
  }
}
