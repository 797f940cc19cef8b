package io.toma.kernel.linux.vm;

import io.toma.kernel.linux.HostIo;
import java.io.IOException;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Supplier;

/**
 * The Linux backend's host calls carried into a test VM: each {@link HostIo} call is one
 * {@link VmHostCalls} call, one channel round trip, so {@code new LinuxKernel(new VmHostIo(vm), ...)}
 * drives the VM's kernel with exactly the operations and reads it would run on a storage node.
 * Reads under the nvmet configfs tree are batched by default ({@link ConfigfsSnapshot}).
 * A refused call becomes the {@link IOException} a local call would raise, carrying the tool's
 * or the shell's own error text ({@code cat: write error: Invalid argument}).
 */
public final class VmHostIo implements HostIo {

  private static final String NVMET = "/sys/kernel/config/nvmet";

  private final VmHostCalls calls;
  private final QemuVm vm;
  private final AtomicLong roundTrips = new AtomicLong();
  private final boolean snapshots;
  /** The nvmet tree as last fetched; dropped by every call that may change the kernel. */
  private ConfigfsSnapshot snapshot;

  public VmHostIo(QemuVm vm) {
    this(vm, true);
  }

  /**
   * @param snapshots answer reads under the nvmet configfs tree from one fetch of the whole tree
   *     ({@link ConfigfsSnapshot}) until the next write or command, instead of one round trip each
   */
  public VmHostIo(QemuVm vm, boolean snapshots) {
    this.vm = vm;
    this.calls = new VmHostCalls(vm);
    this.snapshots = snapshots;
  }

  public QemuVm vm() {
    return vm;
  }

  /** Calls carried so far (one channel round trip each). */
  public long roundTrips() {
    return roundTrips.get();
  }

  @Override
  public void write(String path, String text) throws IOException {
    carried("write " + path, () -> {
      snapshot = null;
      calls.write(path, text);
      return null;
    });
  }

  @Override
  public String read(String path) throws IOException {
    Optional<ConfigfsSnapshot> snap = snapshotFor(path);
    if (snap.isPresent()) {
      if (snap.get().get(path).orElse(null) instanceof ConfigfsSnapshot.File f) {
        return f.content();
      }
      throw new IOException("cannot read " + path + " (absent, a directory or unreadable)");
    }
    return carried("read " + path, () -> calls.read(path));
  }

  @Override
  public void mkdir(String path) throws IOException {
    carried("mkdir " + path, () -> {
      snapshot = null;
      calls.mkdir(path);
      return null;
    });
  }

  @Override
  public void rmdir(String path) throws IOException {
    carried("rmdir " + path, () -> {
      snapshot = null;
      calls.rmdir(path);
      return null;
    });
  }

  @Override
  public void symlink(String target, String link) throws IOException {
    carried("symlink " + link, () -> {
      snapshot = null;
      calls.symlink(target, link);
      return null;
    });
  }

  @Override
  public void unlink(String path) throws IOException {
    carried("unlink " + path, () -> {
      snapshot = null;
      calls.unlink(path);
      return null;
    });
  }

  @Override
  public List<String> list(String dir) throws IOException {
    // HostIo's contract: sorted names, none for a missing directory.
    Optional<ConfigfsSnapshot> snap = snapshotFor(dir);
    if (snap.isPresent()) {
      return snap.get().children(dir);
    }
    return carried("list " + dir, () -> calls.listIfDirectory(dir).stream().sorted().toList());
  }

  @Override
  public boolean exists(String path) throws IOException {
    Optional<ConfigfsSnapshot> snap = snapshotFor(path);
    if (snap.isPresent()) {
      return snap.get().get(path).isPresent();
    }
    return carried("exists " + path, () -> calls.exists(path));
  }

  @Override
  public String readLink(String path) throws IOException {
    Optional<ConfigfsSnapshot> snap = snapshotFor(path);
    if (snap.isPresent()) {
      if (snap.get().get(path).orElse(null) instanceof ConfigfsSnapshot.Link l) {
        return l.target();
      }
      throw new IOException("not a symlink: " + path);
    }
    return carried("readlink " + path, () -> calls.readLink(path));
  }

  @Override
  public ExecResult exec(List<String> argv) throws IOException {
    snapshot = null;
    VmResult r = carried(String.join(" ", argv), () -> calls.exec(argv));
    return new ExecResult(r.exit(), r.stdout(), r.stderr());
  }

  private Optional<ConfigfsSnapshot> snapshotFor(String path) throws IOException {
    if (!snapshots || !(path.equals(NVMET) || path.startsWith(NVMET + "/"))) {
      return Optional.empty();
    }
    if (snapshot == null) {
      String out = carried("snapshot " + NVMET, () -> vm.run(ConfigfsSnapshot.script(NVMET)).stdout());
      snapshot = ConfigfsSnapshot.parse(NVMET, out);
    }
    return Optional.of(snapshot);
  }

  private <T> T carried(String what, Supplier<T> call) throws IOException {
    roundTrips.incrementAndGet();
    try {
      return call.get();
    } catch (VmScriptFailedException e) {
      String why = e.result().stderr().isBlank() ? "exit " + e.result().exit() : e.result().stderr().trim();
      throw new IOException(why, e);
    } catch (VmChannelException e) {
      throw new IOException(what + ": the VM did not answer: " + e.getMessage(), e);
    }
  }
}
