package io.toma.kernel.linux.vm;

import static io.toma.kernel.linux.vm.ShellQuote.quote;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;

/**
 * Several test VMs in a star: one hub kernel with a point-to-point link ({@link VmLink}) to each
 * spoke kernel. Used where nodes must be separate kernels: one nvmet holds a subsystem NQN once,
 * so an active and a standby controller exporting the same volume NQN cannot share a kernel.
 *
 * <p>Addressing: every VM has one IPv4 address ({@code /32}); the hub carries its address on every
 * link and routes each spoke's address to that spoke's link. Spokes reach only the hub. All VMs
 * boot in parallel (UDP links need no start order).
 */
public final class VmStar implements AutoCloseable {

  /** One VM of the star: a name for messages, how to boot it, its address on the links. */
  public record Member(String name, QemuVm.Options options, String address) {}

  private final Map<String, QemuVm> vms;
  private final Map<String, String> addresses;

  private VmStar(Map<String, QemuVm> vms, Map<String, String> addresses) {
    this.vms = vms;
    this.addresses = addresses;
  }

  public static VmStar boot(Member hub, List<Member> spokes) {
    List<VmLink> hubLinks = new ArrayList<>();
    Map<String, QemuVm.Options> options = new LinkedHashMap<>();
    for (int i = 0; i < spokes.size(); i++) {
      VmLink[] pair = VmLink.pair(mac(0, i), mac(1, i));
      hubLinks.add(pair[0]);
      options.put(spokes.get(i).name(), spokes.get(i).options().withLinks(List.of(pair[1])));
    }
    Map<String, QemuVm.Options> all = new LinkedHashMap<>();
    all.put(hub.name(), hub.options().withLinks(hubLinks));
    all.putAll(options);

    Map<String, CompletableFuture<QemuVm>> booting = new LinkedHashMap<>();
    all.forEach((name, o) -> booting.put(name, CompletableFuture.supplyAsync(() -> QemuVm.start(o))));
    Map<String, QemuVm> vms = new LinkedHashMap<>();
    RuntimeException failure = null;
    for (Map.Entry<String, CompletableFuture<QemuVm>> e : booting.entrySet()) {
      try {
        vms.put(e.getKey(), e.getValue().join());
      } catch (CompletionException ex) {
        RuntimeException cause = ex.getCause() instanceof RuntimeException r ? r : ex;
        failure = failure == null ? new IllegalStateException("VM " + e.getKey() + " did not boot: " + cause.getMessage(), cause) : failure;
      }
    }
    if (failure != null) {
      vms.values().forEach(QemuVm::close);
      throw failure;
    }
    Map<String, String> addresses = new LinkedHashMap<>();
    addresses.put(hub.name(), hub.address());
    spokes.forEach(s -> addresses.put(s.name(), s.address()));
    VmStar star = new VmStar(vms, addresses);
    try {
      for (int i = 0; i < spokes.size(); i++) {
        Member spoke = spokes.get(i);
        configure(vms.get(hub.name()), mac(0, i), hub.address(), spoke.address());
        configure(vms.get(spoke.name()), mac(1, i), spoke.address(), hub.address());
      }
    } catch (RuntimeException e) {
      star.close();
      throw e;
    }
    return star;
  }

  public QemuVm vm(String name) {
    QemuVm vm = vms.get(name);
    if (vm == null) {
      throw new IllegalArgumentException("no VM named " + name + " in " + vms.keySet());
    }
    return vm;
  }

  public String address(String name) {
    return addresses.get(name);
  }

  /** Takes a spoke's link down or up from inside the spoke: the node is cut off, or back. */
  public void linkUp(String spoke, boolean up) {
    int i = new ArrayList<>(vms.keySet()).indexOf(spoke) - 1;
    if (i < 0) {
      throw new IllegalArgumentException(spoke + " is not a spoke");
    }
    // Taking a link down flushes the routes through it: bringing it up must route the hub again.
    String hubAddress = addresses.values().iterator().next();
    vm(spoke).run(findNic(mac(1, i)) + "ip link set \"$nic\" " + (up ? "up" : "down") + "\n"
        + (up ? "ip route replace " + quote(hubAddress) + "/32 dev \"$nic\"\n" : ""));
  }

  @Override
  public void close() {
    vms.values().forEach(QemuVm::close);
  }

  /** Brings up the NIC with {@code mac}, gives it {@code address}/32 and routes {@code peer} to it. */
  private static void configure(QemuVm vm, String mac, String address, String peer) {
    vm.run(findNic(mac) + """
        ip link set "$nic" up
        ip addr add %s/32 dev "$nic"
        ip route add %s/32 dev "$nic"
        """.formatted(quote(address), quote(peer)));
  }

  private static String findNic(String mac) {
    return """
        set -e
        nic=''
        for d in /sys/class/net/*; do
          if [ "$(cat "$d/address")" = %s ]; then nic=${d##*/}; fi
        done
        [ -n "$nic" ] || { echo "no NIC with MAC %s" >&2; exit 1; }
        """.formatted(quote(mac), mac);
  }

  /** side 0 = the hub's end, 1 = the spoke's end; i = the link. */
  private static String mac(int side, int link) {
    return "52:54:00:88:%02x:%02x".formatted(side, link);
  }
}
