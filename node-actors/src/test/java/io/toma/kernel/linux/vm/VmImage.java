package io.toma.kernel.linux.vm;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.TimeUnit;

/**
 * The VM's boot files (kernel, initramfs), built by tools/qemu/build-initramfs.sh into
 * {@code image/} of a cache directory outside the tracked tree ({@code target/vm} of the module,
 * or {@code -Dtoma.vm.dir}). {@code kernelFormat} is {@code pvh-elf} (the uncompressed kernel,
 * booted directly) or {@code bzimage} (the fallback).
 * The script rebuilds only when an input changed, so calling {@link #ensureBuilt()} is cheap.
 */
record VmImage(Path kernel, Path initrd, String kernelVersion, String kernelFormat) {

  private static final Object BUILD_LOCK = new Object();
  private static final Duration BUILD_TIMEOUT = Duration.ofMinutes(5);

  static VmImage ensureBuilt() {
    Path script = toolsDir().resolve("build-initramfs.sh");
    Path dir = cacheDir().resolve("image");
    synchronized (BUILD_LOCK) {
      try {
        Path log = Files.createTempFile("toma-vm-build", ".log");
        try {
          Process build = new ProcessBuilder(List.of("bash", script.toString(), dir.toString()))
              .redirectErrorStream(true)
              .redirectOutput(log.toFile())
              .start();
          if (!build.waitFor(BUILD_TIMEOUT.toSeconds(), TimeUnit.SECONDS)) {
            build.destroyForcibly();
            throw new IllegalStateException("build-initramfs.sh took over " + BUILD_TIMEOUT + ": "
                + Files.readString(log, StandardCharsets.UTF_8));
          }
          if (build.exitValue() != 0) {
            throw new IllegalStateException("build-initramfs.sh failed (exit " + build.exitValue() + "):\n"
                + Files.readString(log, StandardCharsets.UTF_8));
          }
        } finally {
          Files.deleteIfExists(log);
        }
        return new VmImage(dir.resolve("kernel"), dir.resolve("initrd.gz"),
            Files.readString(dir.resolve("kernel-version"), StandardCharsets.UTF_8).strip(),
            Files.readString(dir.resolve("kernel-format"), StandardCharsets.UTF_8).strip());
      } catch (IOException e) {
        throw new IllegalStateException("cannot build the VM image in " + dir + ": " + e.getMessage(), e);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw new IllegalStateException("interrupted while building the VM image", e);
      }
    }
  }

  /** Where the boot image and the VM logs go: {@code -Dtoma.vm.dir}, else {@code target/vm} of the module. */
  static Path cacheDir() {
    return Optional.ofNullable(System.getProperty("toma.vm.dir"))
        .map(Path::of)
        .orElse(Path.of(System.getProperty("user.dir"), "target", "vm"))
        .toAbsolutePath();
  }

  /** tools/qemu of the repository: {@code -Dtoma.vm.tools}, else found upwards from the working dir. */
  static Path toolsDir() {
    Optional<String> configured = Optional.ofNullable(System.getProperty("toma.vm.tools"));
    if (configured.isPresent()) {
      return Path.of(configured.get()).toAbsolutePath();
    }
    for (Path dir = Path.of(System.getProperty("user.dir")).toAbsolutePath(); dir != null; dir = dir.getParent()) {
      Path candidate = dir.resolve("tools").resolve("qemu");
      if (Files.isRegularFile(candidate.resolve("build-initramfs.sh"))) {
        return candidate;
      }
    }
    throw new IllegalStateException("tools/qemu/build-initramfs.sh not found above " + System.getProperty("user.dir"));
  }
}
