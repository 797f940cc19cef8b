package io.toma.kernel.linux;

import java.io.IOException;
import java.util.List;

/**
 * Everything the Linux backend does to a machine, as a handful of file and process calls. Kept
 * this small so the same calls can be carried elsewhere (into a qemu VM for the real-kernel
 * tests) and so a test can record or fake them. Paths are absolute; processes take argument
 * lists, never a shell command line.
 */
public interface HostIo {

  void write(String path, String text) throws IOException;

  String read(String path) throws IOException;

  void mkdir(String path) throws IOException;

  void rmdir(String path) throws IOException;

  void symlink(String target, String link) throws IOException;

  void unlink(String path) throws IOException;

  /** Names (not paths) of the entries of a directory, sorted; empty if it does not exist. */
  List<String> list(String dir) throws IOException;

  boolean exists(String path) throws IOException;

  String readLink(String path) throws IOException;

  ExecResult exec(List<String> argv) throws IOException;

  record ExecResult(int exit, String stdout, String stderr) {
    public boolean ok() {
      return exit == 0;
    }
  }
}
