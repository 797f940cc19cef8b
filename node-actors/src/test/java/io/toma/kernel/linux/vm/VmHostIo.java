package io.toma.kernel.linux.vm;

import io.toma.kernel.linux.HostIo;
import java.io.IOException;
import java.util.List;
import java.util.function.Supplier;

/**
 * The Linux backend's host calls carried into a test VM: each {@link HostIo} call is one
 * {@link VmHostCalls} call, one channel round trip, so {@code new LinuxKernel(new VmHostIo(vm), ...)}
 * drives the VM's kernel with exactly the operations and reads it would run on a storage node.
 * A refused call becomes the {@link IOException} a local call would raise, carrying the tool's
 * or the shell's own error text ({@code cat: write error: Invalid argument}).
 */
public final class VmHostIo implements HostIo {

  private final VmHostCalls calls;
  private final QemuVm vm;

  public VmHostIo(QemuVm vm) {
    this.vm = vm;
    this.calls = new VmHostCalls(vm);
  }

  public QemuVm vm() {
    return vm;
  }

  @Override
  public void write(String path, String text) throws IOException {
    carried("write " + path, () -> {
      calls.write(path, text);
      return null;
    });
  }

  @Override
  public String read(String path) throws IOException {
    return carried("read " + path, () -> calls.read(path));
  }

  @Override
  public void mkdir(String path) throws IOException {
    carried("mkdir " + path, () -> {
      calls.mkdir(path);
      return null;
    });
  }

  @Override
  public void rmdir(String path) throws IOException {
    carried("rmdir " + path, () -> {
      calls.rmdir(path);
      return null;
    });
  }

  @Override
  public void symlink(String target, String link) throws IOException {
    carried("symlink " + link, () -> {
      calls.symlink(target, link);
      return null;
    });
  }

  @Override
  public void unlink(String path) throws IOException {
    carried("unlink " + path, () -> {
      calls.unlink(path);
      return null;
    });
  }

  @Override
  public List<String> list(String dir) throws IOException {
    // HostIo's contract: sorted names, none for a missing directory.
    return carried("list " + dir, () -> calls.listIfDirectory(dir).stream().sorted().toList());
  }

  @Override
  public boolean exists(String path) throws IOException {
    return carried("exists " + path, () -> calls.exists(path));
  }

  @Override
  public String readLink(String path) throws IOException {
    return carried("readlink " + path, () -> calls.readLink(path));
  }

  @Override
  public ExecResult exec(List<String> argv) throws IOException {
    VmResult r = carried(String.join(" ", argv), () -> calls.exec(argv));
    return new ExecResult(r.exit(), r.stdout(), r.stderr());
  }

  private static <T> T carried(String what, Supplier<T> call) throws IOException {
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
