package io.toma.kernel.linux.vm;

/** What a script run in the VM returned: its exit status and its two output streams, separately. */
public record VmResult(int exit, String stdout, String stderr) {

  public boolean succeeded() {
    return exit == 0;
  }

  /** stdout without the trailing newline(s), for one-value scripts ({@code cat size}). */
  public String out() {
    return stdout.stripTrailing();
  }

  @Override
  public String toString() {
    return "exit " + exit + "\n--- stdout ---\n" + stdout + "--- stderr ---\n" + stderr;
  }
}
