package io.toma.kernel.plan;

import io.toma.kernel.DesiredState.ConnectTimeouts;
import io.toma.kernel.DesiredState.DmTableLine;
import io.toma.kernel.DesiredState.FabricConnection;
import io.toma.kernel.DeviceRef;
import io.toma.kernel.KernelException;
import io.toma.kernel.KernelOp;
import io.toma.kernel.Validation;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * Renders the reconcile's operations as a POSIX sh script that does the same on a real kernel:
 * the dry-run plan operators read before a change, and what the real-kernel tests run. Every
 * value is validated first and single-quoted; @ns references become a call to a small shell
 * function that finds the namespace's block device by uuid (no udev).
 */
public final class ShellPlan {
  public static final String DEFAULT_CONFIGFS = "/sys/kernel/config";

  private final String configfsRoot;
  private final Map<String, String> diskPaths;

  public ShellPlan(String configfsRoot, Map<String, String> diskPaths) {
    this.configfsRoot = configfsRoot;
    this.diskPaths = Map.copyOf(diskPaths);
  }

  public ShellPlan(Map<String, String> diskPaths) {
    this(DEFAULT_CONFIGFS, diskPaths);
  }

  /** The script for these operations; refused whole if one of them is invalid. */
  public String render(String nodeId, List<KernelOp> ops) throws KernelException {
    Validation.ops(ops);
    StringBuilder out = new StringBuilder();
    out.append("#!/bin/sh\n");
    out.append("# Toma plan for node ").append(comment(nodeId)).append(": ").append(ops.size())
        .append(ops.size() == 1 ? " operation\n" : " operations\n");
    out.append("set -eu\n");
    out.append("CFS=").append(q(configfsRoot)).append('\n');
    out.append("NVMET=\"$CFS/nvmet\"\n");
    out.append(NS_DEV_FUNCTION);
    for (KernelOp op : ops) {
      out.append('\n').append("# ").append(comment(op.toString())).append('\n');
      for (String line : lines(op)) {
        out.append(line).append('\n');
      }
    }
    return out.toString();
  }

  /**
   * Finds /dev/nvmeXnY by namespace uuid, skipping hidden per-path nodes nvmeXcYnZ. A namespace
   * appears a moment after its connect (the kernel scans it asynchronously): look for ~10 s.
   */
  static final String NS_DEV_FUNCTION = """
      toma_ns_dev() {
        toma_try=0
        while [ "$toma_try" -lt 50 ]; do
          for d in /sys/block/nvme*n*; do
            n=${d##*/}
            case "$n" in *c*) continue ;; esac
            if [ -r "$d/uuid" ] && [ "$(cat "$d/uuid")" = "$1" ]; then
              echo "/dev/$n"
              return 0
            fi
          done
          toma_try=$((toma_try + 1))
          sleep 0.2 2>/dev/null || sleep 1
        done
        echo "toma: no block device for namespace uuid $1" >&2
        return 1
      }
      """;

  private List<String> lines(KernelOp op) throws KernelException {
    List<String> l = new ArrayList<>();
    if (op instanceof KernelOp.DmCreate o) {
      l.addAll(resolveNamespaces(o.table()));
      l.add(withTable("dmsetup create " + q(o.name()), o.table()));
      l.add("dmsetup mknodes " + q(o.name()));
    } else if (op instanceof KernelOp.DmReload o) {
      l.addAll(resolveNamespaces(o.table()));
      l.add(withTable("dmsetup reload " + q(o.name()), o.table()));
    } else if (op instanceof KernelOp.DmSuspend o) {
      l.add("dmsetup suspend " + (o.noFlush() ? "--noflush " : "") + q(o.name()));
    } else if (op instanceof KernelOp.DmResume o) {
      l.add("dmsetup resume " + q(o.name()));
    } else if (op instanceof KernelOp.DmRemove o) {
      l.add("dmsetup remove " + q(o.name()));
    } else if (op instanceof KernelOp.ZeroSectors o) {
      String dev = device(o.device(), l);
      l.add(String.join(" ", zeroArgv(dev, o))); // dev is already a quoted shell word
    } else if (op instanceof KernelOp.HostCreate o) {
      l.add("mkdir " + host(o.hostNqn()));
    } else if (op instanceof KernelOp.HostRemove o) {
      l.add("rmdir " + host(o.hostNqn()));
    } else if (op instanceof KernelOp.SubsystemCreate o) {
      l.add("mkdir " + sub(o.nqn()));
      l.add(write("0", sub(o.nqn()) + "/attr_allow_any_host"));
      if (o.cntlidMin().isPresent()) {
        l.add(write(o.cntlidMin().get().toString(), sub(o.nqn()) + "/attr_cntlid_min"));
      }
      if (o.cntlidMax().isPresent()) {
        l.add(write(o.cntlidMax().get().toString(), sub(o.nqn()) + "/attr_cntlid_max"));
      }
    } else if (op instanceof KernelOp.SubsystemRemove o) {
      l.add("rmdir " + sub(o.nqn()));
    } else if (op instanceof KernelOp.SubsystemAllowHost o) {
      l.add("ln -s " + host(o.hostNqn()) + " " + sub(o.nqn()) + "/allowed_hosts/" + q(o.hostNqn()));
    } else if (op instanceof KernelOp.SubsystemDisallowHost o) {
      l.add("rm " + sub(o.nqn()) + "/allowed_hosts/" + q(o.hostNqn()));
    } else if (op instanceof KernelOp.NamespaceCreate o) {
      String ns = sub(o.nqn()) + "/namespaces/" + o.nsid();
      String dev = device(o.devicePath(), l);
      l.add("mkdir " + ns);
      l.add("echo -n " + dev + " > " + ns + "/device_path");
      l.add(write(o.deviceUuid(), ns + "/device_uuid"));
      l.add(write(Integer.toString(o.anaGroupId()), ns + "/ana_grpid"));
      l.add(write("1", ns + "/enable"));
    } else if (op instanceof KernelOp.NamespaceRemove o) {
      String ns = sub(o.nqn()) + "/namespaces/" + o.nsid();
      l.add(write("0", ns + "/enable"));
      l.add("rmdir " + ns);
    } else if (op instanceof KernelOp.NamespaceRevalidate o) {
      l.add(write("1", sub(o.nqn()) + "/namespaces/" + o.nsid() + "/revalidate_size"));
    } else if (op instanceof KernelOp.PortCreate o) {
      String port = port(o.portId());
      l.add("mkdir " + port);
      l.add(write(o.transport(), port + "/addr_trtype"));
      l.add(write(o.addressFamily(), port + "/addr_adrfam"));
      l.add(write(o.address(), port + "/addr_traddr"));
      l.add(write(Integer.toString(o.serviceId()), port + "/addr_trsvcid"));
    } else if (op instanceof KernelOp.PortRemove o) {
      l.add("rmdir " + port(o.portId()));
    } else if (op instanceof KernelOp.AnaGroupCreate o) {
      l.add("mkdir " + port(o.portId()) + "/ana_groups/" + o.groupId());
    } else if (op instanceof KernelOp.AnaGroupSetState o) {
      l.add(write(o.state().kernelName(), port(o.portId()) + "/ana_groups/" + o.groupId() + "/ana_state"));
    } else if (op instanceof KernelOp.AnaGroupRemove o) {
      l.add("rmdir " + port(o.portId()) + "/ana_groups/" + o.groupId());
    } else if (op instanceof KernelOp.PortLinkSubsystem o) {
      l.add("ln -s " + sub(o.nqn()) + " " + port(o.portId()) + "/subsystems/" + q(o.nqn()));
    } else if (op instanceof KernelOp.PortUnlinkSubsystem o) {
      l.add("rm " + port(o.portId()) + "/subsystems/" + q(o.nqn()));
    } else if (op instanceof KernelOp.Connect o) {
      l.add(connect(o.connection()));
    } else if (op instanceof KernelOp.Disconnect o) {
      l.add("nvme disconnect -n " + q(o.subsystemNqn()));
    } else {
      throw new KernelException("no shell rendering for " + op);
    }
    return l;
  }

  /**
   * nvme-cli 2.3 has no flag for fast_io_fail_tmo: with it, the same connect is written as an
   * option string to /dev/nvme-fabrics (opened read-write; the kernel answers with one line).
   */
  static String connect(FabricConnection c) {
    ConnectTimeouts t = c.timeouts();
    if (t.fastIoFail().isPresent()) {
      // One command per line: set -e does not stop on a failure inside an && list.
      return "exec 3<>/dev/nvme-fabrics\n"
          + "printf '%s' " + q(fabricsOptions(c)) + " >&3\n"
          + "read -r toma_reply <&3 || toma_reply=''\n"
          + "exec 3>&-\n"
          + "echo \"connected: $toma_reply\"";
    }
    return "nvme connect -t " + q(c.transport()) + " -a " + q(c.address()) + " -s " + c.serviceId()
        + " -n " + q(c.subsystemNqn()) + " --hostnqn=" + q(c.hostNqn())
        + " --keep-alive-tmo=" + t.keepAlive() + " --ctrl-loss-tmo=" + t.ctrlLoss()
        + " --reconnect-delay=" + t.reconnectDelay();
  }

  /** The option string the kernel parses from /dev/nvme-fabrics (kernel-recipes.md). */
  public static String fabricsOptions(FabricConnection c) {
    ConnectTimeouts t = c.timeouts();
    StringBuilder s = new StringBuilder();
    s.append("nqn=").append(c.subsystemNqn())
        .append(",transport=").append(c.transport())
        .append(",traddr=").append(c.address())
        .append(",trsvcid=").append(c.serviceId())
        .append(",hostnqn=").append(c.hostNqn())
        .append(",ctrl_loss_tmo=").append(t.ctrlLoss())
        .append(",reconnect_delay=").append(t.reconnectDelay())
        .append(",keep_alive_tmo=").append(t.keepAlive());
    t.fastIoFail().ifPresent(f -> s.append(",fast_io_fail_tmo=").append(f));
    return s.toString();
  }

  /**
   * dmsetup takes a one-line table with --table; a table of several lines is piped to its stdin
   * instead (one printf argument per line).
   */
  private String withTable(String command, List<DmTableLine> table) throws KernelException {
    if (table.size() == 1) {
      return command + " --table " + tableLine(table.get(0));
    }
    StringBuilder words = new StringBuilder("printf '%s\\n'");
    for (DmTableLine line : table) {
      words.append(' ').append(tableLine(line));
    }
    return words + " | " + command;
  }

  /** One table line as one shell word; @ns refs become variables set just before it. */
  private String tableLine(DmTableLine line) throws KernelException {
    StringBuilder text = new StringBuilder();
    text.append(line.start()).append(' ').append(line.length()).append(' ').append(line.target());
    boolean dynamic = false;
    for (String token : Validation.tokens(line.args())) {
      text.append(' ');
      if (token.startsWith(DeviceRef.NS)) {
        text.append("${").append(nsVar(token.substring(DeviceRef.NS.length()))).append('}');
        dynamic = true;
      } else if (DeviceRef.parse(token).isPresent()) {
        text.append(resolveStatic(token));
      } else {
        text.append(token);
      }
    }
    // Validated tokens hold no quote, $, backquote or backslash: double quotes are safe.
    return dynamic ? "\"" + text + "\"" : q(text.toString());
  }

  private List<String> resolveNamespaces(List<DmTableLine> table) {
    List<String> l = new ArrayList<>();
    for (DmTableLine line : table) {
      for (String token : Validation.tokens(line.args())) {
        if (token.startsWith(DeviceRef.NS)) {
          String uuid = token.substring(DeviceRef.NS.length());
          l.add(nsVar(uuid) + "=$(toma_ns_dev " + q(uuid) + ")");
        }
      }
    }
    return l;
  }

  /** A namespace's device path as a shell word; an @ns ref is looked up into a variable first. */
  private String device(String ref, List<String> l) throws KernelException {
    if (ref.startsWith(DeviceRef.NS)) {
      String uuid = ref.substring(DeviceRef.NS.length());
      l.add(nsVar(uuid) + "=$(toma_ns_dev " + q(uuid) + ")");
      return "\"${" + nsVar(uuid) + "}\"";
    }
    return q(resolveStatic(ref));
  }

  /**
   * dd writing zeros over a sector range: direct I/O, so nothing stays in the page cache, and
   * fsync before it returns; the same argv for the Linux backend and the plan.
   */
  public static List<String> zeroArgv(String device, KernelOp.ZeroSectors zero) {
    return List.of("dd", "if=/dev/zero", "of=" + device, "bs=512", "seek=" + zero.startSector(),
        "count=" + zero.sectors(), "oflag=direct", "conv=notrunc,fsync", "status=none");
  }

  private String resolveStatic(String ref) throws KernelException {
    DeviceRef r = DeviceRef.parse(ref).orElseThrow(() -> new KernelException("not a device: " + ref));
    if (r instanceof DeviceRef.Disk d) {
      String path = diskPaths.get(d.diskId());
      if (path == null) {
        throw new KernelException("disk " + d.diskId() + " is not registered on this node");
      }
      return Validation.devicePath(path);
    } else if (r instanceof DeviceRef.Dm d) {
      return "/dev/mapper/" + d.name();
    } else if (r instanceof DeviceRef.Path p) {
      return p.path();
    }
    throw new KernelException("namespace reference cannot be resolved statically: " + ref);
  }

  private static String nsVar(String uuid) {
    return "toma_ns_" + uuid.toLowerCase().replace('-', '_');
  }

  private static String write(String value, String path) {
    return "echo -n " + q(value) + " > " + path;
  }

  private static String host(String nqn) {
    return "\"$NVMET\"/hosts/" + q(nqn);
  }

  private static String sub(String nqn) {
    return "\"$NVMET\"/subsystems/" + q(nqn);
  }

  private static String port(int portId) {
    return "\"$NVMET\"/ports/" + portId;
  }

  /** Single-quoted shell word; a quote inside is closed, escaped and reopened. */
  static String q(String s) {
    return "'" + s.replace("'", "'\\''") + "'";
  }

  private static String comment(String s) {
    return s.replaceAll("[\\r\\n]", " ");
  }
}
