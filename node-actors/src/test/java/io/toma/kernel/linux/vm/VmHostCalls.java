package io.toma.kernel.linux.vm;

import static io.toma.kernel.linux.vm.ShellQuote.quote;

import java.util.List;

/**
 * File and process calls on the VM, one channel round trip each, with the kernel's own error on
 * failure. They mirror what a Linux backend does on a host (configfs and sysfs are files,
 * dmsetup and nvme are processes), so a backend's host-I/O interface can be carried into the VM
 * by delegating to these methods one for one.
 *
 * <p>Every failing call throws {@link VmScriptFailedException}: its message has the shell's or
 * the tool's error (e.g. {@code cat: write error: Invalid argument}) and the kernel log tail;
 * {@code result()} has the raw exit status and streams.
 */
public final class VmHostCalls {

  private final QemuVm vm;

  public VmHostCalls(QemuVm vm) {
    this.vm = vm;
  }

  /**
   * Writes exactly {@code text} (no newline added) in one write, as a configfs attribute expects.
   * Piped through {@code cat} so a refused write reports its errno (the shell's own printf
   * builtin fails silently).
   */
  public void write(String path, String text) {
    vm.run("printf '%s' " + quote(text) + " | cat > " + quote(path));
  }

  public String read(String path) {
    return vm.run("cat " + quote(path)).stdout();
  }

  public void mkdir(String path) {
    vm.run("mkdir " + quote(path));
  }

  public void rmdir(String path) {
    vm.run("rmdir " + quote(path));
  }

  /** Creates {@code link} pointing at {@code target} (configfs: allow a host, link a port). */
  public void symlink(String target, String link) {
    vm.run("ln -s " + quote(target) + " " + quote(link));
  }

  public void unlink(String path) {
    vm.run("unlink " + quote(path));
  }

  /** Names in {@code dir} (not paths), in {@code ls} order; hidden names included. */
  public List<String> list(String dir) {
    return vm.run("ls -1A " + quote(dir)).stdout().lines().toList();
  }

  /** Names in {@code dir}, or none when it does not exist or is not a directory. */
  public List<String> listIfDirectory(String dir) {
    return vm.run("if [ -d " + quote(dir) + " ]; then ls -1A " + quote(dir) + "; fi").stdout().lines().toList();
  }

  /** True for anything at {@code path}, a dangling symlink included. */
  public boolean exists(String path) {
    VmResult r = vm.exec("if [ -e " + quote(path) + " ] || [ -L " + quote(path) + " ]; then echo yes; else echo no; fi");
    if (!r.succeeded()) {
      throw new VmScriptFailedException("exists " + path, r, vm.dmesgTail());
    }
    return r.out().equals("yes");
  }

  public String readLink(String path) {
    return vm.run("readlink " + quote(path)).out();
  }

  /** Runs a program; a non-zero exit is a result here, not an error (the caller decides). */
  public VmResult exec(List<String> argv) {
    return vm.exec(argv);
  }
}
