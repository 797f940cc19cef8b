package io.toma.kernel.linux;

import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * Parses {@code nvme list-subsys} (nvme-cli 2.x) text:
 * <pre>
 * nvme-subsys2 - NQN=nqn.2026-11.io.toma:vol0
 * \
 *  +- nvme2 tcp traddr=127.0.0.1,trsvcid=4430 live optimized
 *  +- nvme3 tcp traddr=127.0.0.1,trsvcid=4431 live inaccessible
 * </pre>
 * Attribute lines some versions add (hostnqn=, iopolicy=) are skipped; the ANA state is absent
 * when the listing was not asked for one namespace.
 */
public final class NvmeListSubsys {
  private NvmeListSubsys() {}

  public record Subsystem(String name, String nqn, List<Path> paths) {
    public Subsystem {
      paths = List.copyOf(paths);
    }
  }

  public record Path(String controller, String transport, FabricAddress address, String state,
      Optional<String> anaState) {}

  public static List<Subsystem> parse(String text) {
    List<Subsystem> out = new ArrayList<>();
    String name = null;
    String nqn = null;
    List<Path> paths = new ArrayList<>();
    for (String raw : text.split("\n")) {
      String line = raw.trim();
      if (line.startsWith("nvme-subsys")) {
        if (name != null) {
          out.add(new Subsystem(name, nqn, paths));
        }
        String[] head = line.split("\\s+-\\s+", 2);
        name = head[0].trim();
        nqn = head.length > 1 && head[1].startsWith("NQN=") ? head[1].substring(4).trim() : "";
        paths = new ArrayList<>();
      } else if (line.startsWith("+-") && name != null) {
        String[] f = line.substring(2).trim().split("\\s+");
        if (f.length >= 4) {
          paths.add(new Path(f[0], f[1], FabricAddress.parse(f[2]), f[3],
              f.length >= 5 ? Optional.of(f[4]) : Optional.empty()));
        }
      }
    }
    if (name != null) {
      out.add(new Subsystem(name, nqn, paths));
    }
    return List.copyOf(out);
  }
}
