package io.toma.kernel.linux.vm;

/**
 * A script that had to succeed exited non-zero. The message holds the script, what it printed
 * and the kernel log tail, so a refused table or configfs write shows the kernel's own words.
 */
public final class VmScriptFailedException extends RuntimeException {
  private final transient VmResult result;

  VmScriptFailedException(String script, VmResult result, String kernelLogTail) {
    super("script failed with exit " + result.exit() + "\n--- script ---\n" + QemuVm.excerpt(script)
        + "\n--- stdout ---\n" + result.stdout() + "--- stderr ---\n" + result.stderr()
        + "--- kernel log (tail) ---\n" + kernelLogTail);
    this.result = result;
  }

  public VmResult result() {
    return result;
  }
}
