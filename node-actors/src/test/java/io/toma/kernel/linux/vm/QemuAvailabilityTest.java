package io.toma.kernel.linux.vm;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.toma.kernel.linux.vm.QemuAvailability.Available;
import io.toma.kernel.linux.vm.QemuAvailability.Unavailable;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class QemuAvailabilityTest {

  @TempDir Path root;

  private Path bin() throws IOException {
    return Files.createDirectories(root.resolve("bin"));
  }

  private void tool(String name) throws IOException {
    Path file = bin().resolve(name);
    Files.writeString(file, "#!/bin/sh\n");
    Files.setPosixFilePermissions(file, PosixFilePermissions.fromString("rwxr-xr-x"));
  }

  private void kernel(String version, boolean withImage, boolean withModules) throws IOException {
    if (withImage) {
      Files.writeString(Files.createDirectories(root.resolve("boot")).resolve("vmlinuz-" + version), "");
    }
    if (withModules) {
      Files.createDirectories(root.resolve("lib/modules").resolve(version));
    }
  }

  private QemuAvailability.Result check() throws IOException {
    return QemuAvailability.check(List.of(bin()), root.resolve("boot"), root.resolve("lib/modules"));
  }

  @Test
  void aMachineWithEveryToolAndAKernelCanRunTheVm() throws IOException {
    for (String t : QemuAvailability.HOST_TOOLS) {
      tool(t);
    }
    kernel("6.1.0-9-amd64", true, true);
    kernel("6.1.0-56-amd64", true, true);
    kernel("6.12.0-1-amd64", false, true); // modules of a removed kernel: not bootable
    Available available = assertInstanceOf(Available.class, check());
    assertEquals("6.1.0-56-amd64", available.kernelVersion(), "the newest bootable kernel");
    assertEquals(bin().resolve("qemu-system-x86_64"), available.qemu());
  }

  @Test
  void missingToolsAreNamedWithTheInstallHint() throws IOException {
    for (String t : QemuAvailability.HOST_TOOLS) {
      if (!t.equals("qemu-system-x86_64") && !t.equals("nvme")) {
        tool(t);
      }
    }
    kernel("6.1.0-56-amd64", true, true);
    Unavailable unavailable = assertInstanceOf(Unavailable.class, check());
    assertTrue(unavailable.reason().contains("qemu-system-x86_64, nvme"), unavailable.reason());
    assertTrue(unavailable.reason().contains("tools/qemu/install-deps.sh"), unavailable.reason());
    assertFalse(unavailable.reason().contains("no kernel"), unavailable.reason());
  }

  @Test
  void aMachineWithoutAKernelImageSaysWhichPackageIsMissing() throws IOException {
    for (String t : QemuAvailability.HOST_TOOLS) {
      tool(t);
    }
    kernel("6.1.0-56-amd64", false, true);
    Unavailable unavailable = assertInstanceOf(Unavailable.class, check());
    assertTrue(unavailable.reason().contains("linux-image-amd64"), unavailable.reason());
  }

  @Test
  void kernelVersionsCompareNumerically() {
    assertTrue(QemuAvailability.compareVersions("6.10.0-1-amd64", "6.9.0-1-amd64") > 0);
    assertTrue(QemuAvailability.compareVersions("6.1.0-56-amd64", "6.1.0-9-amd64") > 0);
    assertEquals(0, QemuAvailability.compareVersions("6.1.0-56-amd64", "6.1.0-56-amd64"));
  }
}
