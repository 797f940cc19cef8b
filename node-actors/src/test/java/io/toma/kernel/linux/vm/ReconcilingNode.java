package io.toma.kernel.linux.vm;

import io.toma.kernel.DesiredState;
import io.toma.kernel.KernelException;
import io.toma.kernel.KernelOp;
import io.toma.kernel.KernelState;
import io.toma.kernel.linux.LinuxKernel;
import io.toma.kernel.plan.ShellPlan;
import io.toma.kernel.reconcile.AppliedRecord;
import io.toma.kernel.reconcile.Reconciler;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * One kernel's agent in a real-kernel scenario, doing what {@code NodeAgent} does on a reconcile
 * without the actor around it: read the kernel through {@link LinuxKernel}, diff with
 * {@link Reconciler} against the desired states it holds and its {@link AppliedRecord}, apply every
 * operation, keep the record. The kernel is a test VM's, reached through {@link VmHostIo}.
 *
 * <p>A failure carries the kernel's log tail: dmsetup only says "Invalid argument", dm-raid says why.
 */
public final class ReconcilingNode {

  /** What one reconcile did: its operations and how long it took. */
  public record Reconciled(String node, List<KernelOp> ops, Duration took, long roundTrips) {
    public String summary() {
      return node + ": " + ops.size() + " operations in " + took.toMillis() + " ms (" + roundTrips
          + " calls into the VM)";
    }
  }

  private final String name;
  private final QemuVm vm;
  private final LinuxKernel kernel;
  private final VmHostIo io;
  private final Map<String, String> diskPaths;
  private AppliedRecord record = AppliedRecord.empty();

  public ReconcilingNode(String name, QemuVm vm, Map<String, String> diskPaths) {
    this.name = name;
    this.vm = vm;
    this.diskPaths = Map.copyOf(diskPaths);
    this.io = new VmHostIo(vm);
    this.kernel = new LinuxKernel(io, ShellPlan.DEFAULT_CONFIGFS, "/sys", "/tmp", diskPaths);
  }

  public String name() {
    return name;
  }

  public QemuVm vm() {
    return vm;
  }

  public LinuxKernel kernel() {
    return kernel;
  }

  public KernelState read() throws KernelException {
    return kernel.read();
  }

  /** The same read with every configfs attribute fetched on its own (no snapshot), for comparison. */
  public KernelState readCallByCall() throws KernelException {
    return new LinuxKernel(new VmHostIo(vm, false), ShellPlan.DEFAULT_CONFIGFS, "/sys", "/tmp", diskPaths).read();
  }

  /** The operations a reconcile towards {@code held} would run now (nothing is applied). */
  public List<KernelOp> diff(Map<String, DesiredState> held) throws KernelException {
    return Reconciler.diff(held, kernel.read(), diskPaths, record);
  }

  /** Reconciles the kernel towards {@code held}; throws with the kernel log on a refusal. */
  public Reconciled reconcile(Map<String, DesiredState> held) {
    Instant start = Instant.now();
    long calls = io.roundTrips();
    List<KernelOp> done = new ArrayList<>();
    List<KernelOp> ops;
    try {
      ops = diff(held);
    } catch (KernelException e) {
      throw failure("the diff failed", e, done);
    }
    for (KernelOp op : ops) {
      try {
        kernel.apply(op);
      } catch (KernelException e) {
        throw failure("applying " + op + " failed", e, done);
      }
      record = record.after(op);
      done.add(op);
    }
    record = record.withEpochsOf(held);
    Reconciled r = new Reconciled(name, List.copyOf(done), Duration.between(start, Instant.now()),
        io.roundTrips() - calls);
    System.out.println("reconciled " + r.summary());
    return r;
  }

  /**
   * The dry-run plan of a reconcile towards {@code held}, run through {@code sh} in the VM instead
   * of through LinuxKernel; the record learns the operations as if the agent had applied them.
   */
  public Reconciled runPlan(Map<String, DesiredState> held) {
    Instant start = Instant.now();
    long calls = io.roundTrips();
    List<KernelOp> ops;
    String script;
    try {
      ops = diff(held);
      script = new ShellPlan(diskPaths).render(name, ops);
    } catch (KernelException e) {
      throw failure("the plan could not be made", e, List.of());
    }
    vm.run(script);
    for (KernelOp op : ops) {
      record = record.after(op);
    }
    record = record.withEpochsOf(held);
    Reconciled r = new Reconciled(name, ops, Duration.between(start, Instant.now()), io.roundTrips() - calls + 1);
    System.out.println("ran the plan of " + r.summary());
    return r;
  }

  private AssertionError failure(String what, KernelException e, List<KernelOp> done) {
    return new AssertionError(name + ": " + what + ": " + e.getMessage()
        + "\n(after " + done.size() + " operations succeeded)\n--- kernel log (tail) ---\n" + vm.dmesgTail(), e);
  }
}
