package io.toma.kernel.linux.vm;

import java.io.File;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.stream.Stream;

/**
 * Whether this machine can boot the real-kernel test VM: qemu, a Debian kernel with its modules,
 * and the tools the initramfs is built from. Says why not, so a skipped test tells the operator
 * what to install instead of passing silently.
 *
 * <p>Switches, for CI and for checking the skip path: environment {@code TOMA_VM=off} (or system
 * property {@code toma.vm=off}) turns the VM off; system property {@code toma.vm.path} replaces
 * {@code PATH} for the tool lookup (e.g. {@code -Dtoma.vm.path=/nonexistent} hides qemu).
 */
public final class QemuAvailability {

  /** Tools the host needs: qemu to boot, the rest to build the initramfs. */
  static final List<String> HOST_TOOLS =
      List.of("qemu-system-x86_64", "busybox", "dmsetup", "nvme", "cpio", "gzip", "xz", "modprobe", "depmod");

  static final String INSTALL_HINT = "install them with tools/qemu/install-deps.sh (see docs/real-kernel.md)";

  /** The answer: available (with what was found) or not (with the reason). */
  public sealed interface Result {
    boolean available();
  }

  public record Available(Path qemu, String kernelVersion) implements Result {
    @Override
    public boolean available() {
      return true;
    }
  }

  public record Unavailable(String reason) implements Result {
    @Override
    public boolean available() {
      return false;
    }
  }

  private QemuAvailability() {}

  /** This machine, with the switches described above. */
  public static Result check() {
    String off = Optional.ofNullable(System.getenv("TOMA_VM")).orElse(System.getProperty("toma.vm", ""));
    if (off.equalsIgnoreCase("off")) {
      return new Unavailable("the real-kernel VM is turned off (TOMA_VM=off / -Dtoma.vm=off)");
    }
    String path = System.getProperty("toma.vm.path", Optional.ofNullable(System.getenv("PATH")).orElse(""));
    List<Path> searchPath = new ArrayList<>();
    for (String dir : path.split(File.pathSeparator)) {
      if (!dir.isEmpty()) {
        searchPath.add(Path.of(dir));
      }
    }
    // Tools installed in sbin directories are not always on a non-root PATH.
    if (!System.getProperties().containsKey("toma.vm.path")) {
      searchPath.addAll(List.of(Path.of("/usr/sbin"), Path.of("/sbin")));
    }
    return check(searchPath, Path.of("/boot"), Path.of("/lib/modules"));
  }

  /** Looks for the tools on {@code searchPath} and a kernel in {@code bootDir}/{@code modulesDir}. */
  static Result check(List<Path> searchPath, Path bootDir, Path modulesDir) {
    List<String> missing = HOST_TOOLS.stream().filter(t -> find(t, searchPath).isEmpty()).toList();
    Optional<String> kernel = newestKernel(bootDir, modulesDir);
    if (!missing.isEmpty() || kernel.isEmpty()) {
      List<String> reasons = new ArrayList<>();
      if (!missing.isEmpty()) {
        reasons.add("not found on PATH (" + searchPath + "): " + String.join(", ", missing));
      }
      if (kernel.isEmpty()) {
        reasons.add("no kernel with both " + bootDir + "/vmlinuz-<ver> and " + modulesDir + "/<ver>"
            + " (package linux-image-amd64)");
      }
      return new Unavailable(String.join("; ", reasons) + "; " + INSTALL_HINT);
    }
    return new Available(find("qemu-system-x86_64", searchPath).orElseThrow(), kernel.orElseThrow());
  }

  static Optional<Path> find(String tool, List<Path> searchPath) {
    return searchPath.stream()
        .map(dir -> dir.resolve(tool))
        .filter(p -> Files.isRegularFile(p) && Files.isExecutable(p))
        .findFirst();
  }

  /** Same choice as tools/qemu/build-initramfs.sh: the newest version present in both places. */
  static Optional<String> newestKernel(Path bootDir, Path modulesDir) {
    if (!Files.isDirectory(modulesDir)) {
      return Optional.empty();
    }
    try (Stream<Path> versions = Files.list(modulesDir)) {
      return versions
          .map(p -> p.getFileName().toString())
          .filter(v -> Files.isReadable(bootDir.resolve("vmlinuz-" + v)))
          .max(QemuAvailability::compareVersions);
    } catch (IOException e) {
      return Optional.empty();
    }
  }

  /** Version order like {@code sort -V}: numeric runs compare as numbers. */
  static int compareVersions(String a, String b) {
    String[] pa = a.split("(?<=\\d)(?=\\D)|(?<=\\D)(?=\\d)");
    String[] pb = b.split("(?<=\\d)(?=\\D)|(?<=\\D)(?=\\d)");
    for (int i = 0; i < Math.min(pa.length, pb.length); i++) {
      boolean numeric = pa[i].chars().allMatch(Character::isDigit) && pb[i].chars().allMatch(Character::isDigit);
      // Numbers without leading zeros compare by length first, then digit by digit.
      int c = numeric ? Integer.compare(stripZeros(pa[i]).length(), stripZeros(pb[i]).length()) : 0;
      if (c == 0) {
        c = numeric ? stripZeros(pa[i]).compareTo(stripZeros(pb[i])) : pa[i].compareTo(pb[i]);
      }
      if (c != 0) {
        return c;
      }
    }
    return Integer.compare(pa.length, pb.length);
  }

  private static String stripZeros(String digits) {
    String s = digits.replaceFirst("^0+", "");
    return s.isEmpty() ? "0" : s;
  }
}
