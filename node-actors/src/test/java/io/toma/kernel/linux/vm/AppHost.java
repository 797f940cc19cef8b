package io.toma.kernel.linux.vm;

import static io.toma.kernel.linux.vm.ShellQuote.quote;

import java.time.Duration;
import java.time.Instant;
import java.util.function.Predicate;

/**
 * An application host in a test VM: an NVMe-oF initiator outside Toma (its host NQN is not
 * Toma's, so no agent ever disconnects it) that connects to every controller of a volume under
 * the same subsystem NQN and lets native multipath pick the path by ANA state. It connects with
 * a long controller-loss timeout so that I/O queues across a failover instead of failing.
 */
public final class AppHost {

  private final QemuVm vm;
  private final String hostNqn;

  public AppHost(QemuVm vm, String hostNqn) {
    this.vm = vm;
    this.hostNqn = hostNqn;
  }

  public String hostNqn() {
    return hostNqn;
  }

  /** {@code nvme connect}; the result, since a refused host is a result some tests want. */
  public VmResult connect(String address, int serviceId, String nqn) {
    return vm.exec("nvme connect -t tcp -a %s -s %d -n %s --hostnqn=%s --keep-alive-tmo=5 --ctrl-loss-tmo=600 --reconnect-delay=1"
        .formatted(quote(address), serviceId, quote(nqn), quote(hostNqn)));
  }

  public void disconnect(String nqn) {
    vm.run("nvme disconnect -n " + quote(nqn));
  }

  /** The multipath head device of the namespace with this uuid (hidden per-path nodes skipped). */
  public String namespaceDevice(String uuid) {
    return vm.run("""
        for try in $(seq 300); do
          for d in /sys/block/nvme*n*; do
            case ${d##*/} in *c*|'nvme*n*') continue ;; esac
            if [ "$(cat $d/uuid 2>/dev/null)" = %1$s ]; then echo /dev/${d##*/}; exit 0; fi
          done
          sleep 0.1
        done
        echo "no namespace with uuid %1$s after 30 s" >&2; exit 1
        """.formatted(quote(uuid))).out();
  }

  /**
   * How the host sees its path through the controller at {@code address:serviceId}: the
   * controller state and the path's ANA state, e.g. "live optimized", "connecting inaccessible";
   * "absent" when there is no such controller.
   */
  public String path(String nqn, String address, int serviceId) {
    return vm.run("""
        for c in /sys/class/nvme/nvme*; do
          [ -e "$c/subsysnqn" ] || continue
          [ "$(cat $c/subsysnqn)" = %1$s ] || continue
          [ "$(cat $c/hostnqn)" = %2$s ] || continue
          case "$(cat $c/address)" in *traddr=%3$s,trsvcid=%4$d*) ;; *) continue ;; esac
          ana=none
          for p in $c/nvme*c*n*; do [ -e "$p/ana_state" ] && ana=$(cat $p/ana_state); done
          echo "$(cat $c/state) $ana"
          exit 0
        done
        echo absent
        """.formatted(quote(nqn), quote(hostNqn), address, serviceId)).out();
  }

  /**
   * Waits until the path satisfies {@code wanted} (ANA changes reach the host asynchronously);
   * returns the last state seen either way, so the caller asserts on it.
   */
  public String awaitPath(String nqn, String address, int serviceId, Predicate<String> wanted, Duration patience) {
    Instant deadline = Instant.now().plus(patience);
    String seen = path(nqn, address, serviceId);
    Instant start = Instant.now();
    while (!wanted.test(seen) && Instant.now().isBefore(deadline)) {
      vm.run("sleep 0.2");
      seen = path(nqn, address, serviceId);
    }
    System.out.printf("host path to %s:%d: '%s' after %d ms of waiting%n", address, serviceId, seen,
        Duration.between(start, Instant.now()).toMillis());
    return seen;
  }
}
