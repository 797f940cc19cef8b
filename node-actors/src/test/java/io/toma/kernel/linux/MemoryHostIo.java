package io.toma.kernel.linux;

import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.function.Function;

/**
 * An in-memory machine for the Linux backend's tests: a file tree that behaves like configfs where
 * it matters (mkdir of a subsystem or port makes its fixed children, rmdir of a non-empty
 * directory fails, ana_groups/1 comes with every port) and a scripted process table. It records
 * every call, so a test can assert the exact argv and writes.
 */
final class MemoryHostIo implements HostIo {
  final Map<String, String> files = new TreeMap<>();
  final Map<String, String> links = new TreeMap<>();
  final java.util.Set<String> dirs = new java.util.TreeSet<>();
  final List<String> calls = new ArrayList<>();
  Function<List<String>, ExecResult> processes = argv -> new ExecResult(0, "", "");

  @Override
  public void write(String path, String text) throws IOException {
    calls.add("write " + path + " " + text);
    requireDir(parent(path));
    files.put(path, text);
  }

  @Override
  public String read(String path) throws IOException {
    String v = files.get(path);
    if (v == null) {
      throw new IOException("no such file " + path);
    }
    return v;
  }

  @Override
  public void mkdir(String path) throws IOException {
    calls.add("mkdir " + path);
    requireDir(parent(path));
    if (!dirs.add(path)) {
      throw new IOException("File exists: " + path);
    }
    if (parent(path).endsWith("/nvmet/subsystems")) {
      dirs.add(path + "/allowed_hosts");
      dirs.add(path + "/namespaces");
    } else if (parent(path).endsWith("/nvmet/ports")) {
      dirs.add(path + "/subsystems");
      dirs.add(path + "/ana_groups");
      dirs.add(path + "/ana_groups/1");
      files.put(path + "/ana_groups/1/ana_state", "optimized\n");
    }
  }

  @Override
  public void rmdir(String path) throws IOException {
    calls.add("rmdir " + path);
    for (String d : dirs) {
      if (d.startsWith(path + "/") && !isFixedChild(path, d)) {
        throw new IOException("Directory not empty: " + path);
      }
    }
    for (String l : links.keySet()) {
      if (l.startsWith(path + "/")) {
        throw new IOException("Directory not empty: " + path);
      }
    }
    if (!dirs.remove(path)) {
      throw new IOException("No such directory: " + path);
    }
    dirs.removeIf(d -> d.startsWith(path + "/"));
    files.keySet().removeIf(f -> f.startsWith(path + "/"));
  }

  private static boolean isFixedChild(String path, String d) {
    String rest = d.substring(path.length() + 1);
    return rest.equals("allowed_hosts") || rest.equals("namespaces") || rest.equals("subsystems")
        || rest.equals("ana_groups") || rest.equals("ana_groups/1");
  }

  @Override
  public void symlink(String target, String link) throws IOException {
    calls.add("symlink " + target + " " + link);
    requireDir(parent(link));
    if (!dirs.contains(target)) {
      throw new IOException("No such target: " + target);
    }
    links.put(link, target);
  }

  @Override
  public void unlink(String path) throws IOException {
    calls.add("unlink " + path);
    if (links.remove(path) == null && files.remove(path) == null) {
      throw new IOException("No such link: " + path);
    }
  }

  @Override
  public List<String> list(String dir) {
    java.util.Set<String> out = new java.util.TreeSet<>();
    for (String p : concat()) {
      if (p.startsWith(dir + "/")) {
        String rest = p.substring(dir.length() + 1);
        out.add(rest.contains("/") ? rest.substring(0, rest.indexOf('/')) : rest);
      }
    }
    return List.copyOf(out);
  }

  private List<String> concat() {
    List<String> all = new ArrayList<>(dirs);
    all.addAll(links.keySet());
    // attribute files are not directory entries Toma lists, except under /sys/dev/block
    return all;
  }

  @Override
  public boolean exists(String path) {
    return dirs.contains(path) || files.containsKey(path) || links.containsKey(path);
  }

  @Override
  public String readLink(String path) throws IOException {
    String t = links.get(path);
    if (t == null) {
      throw new IOException("not a link: " + path);
    }
    return t;
  }

  @Override
  public ExecResult exec(List<String> argv) {
    calls.add("exec " + String.join(" ", argv));
    return processes.apply(argv);
  }

  void mkdirs(String path) {
    String p = path;
    while (p.length() > 1) {
      dirs.add(p);
      p = parent(p);
    }
  }

  private void requireDir(String dir) throws IOException {
    if (!dirs.contains(dir)) {
      throw new IOException("No such directory: " + dir);
    }
  }

  private static String parent(String path) {
    return path.substring(0, path.lastIndexOf('/'));
  }
}
