package io.toma.kernel.reconcile;

import io.toma.kernel.DesiredState;
import io.toma.kernel.DesiredState.AnaState;
import io.toma.kernel.DesiredState.DmDevice;
import io.toma.kernel.DesiredState.FabricConnection;
import io.toma.kernel.DesiredState.NvmetPort;
import io.toma.kernel.DesiredState.NvmetSubsystem;
import io.toma.kernel.DeviceRef;
import io.toma.kernel.KernelException;
import io.toma.kernel.Validation;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;

/**
 * The union of every volume a node holds: what its kernel must contain. Ports declared by several
 * volumes are merged (ANA groups and links); any other object declared twice must be declared
 * identically, else the union is refused (two volumes cannot both own one dm device).
 */
public record DesiredUnion(
    Map<String, DmDevice> dmDevices,
    Map<String, String> dmOwner,
    Map<String, NvmetSubsystem> subsystems,
    Map<String, String> subsystemOwner,
    Map<Integer, MergedPort> ports,
    Map<ConnectionKey, FabricConnection> connections) {

  /** A port after merging every volume's declaration of it. */
  public record MergedPort(
      int portId,
      String transport,
      String addressFamily,
      String address,
      int serviceId,
      Map<Integer, AnaState> anaGroups,
      Set<String> subsystems) {}

  /** A host-side connection is identified by where it goes, not by how it was asked for. */
  public record ConnectionKey(String subsystemNqn, String address, int serviceId) {}

  public static DesiredUnion of(Map<String, DesiredState> held, Map<String, String> diskPaths)
      throws KernelException {
    Map<String, DmDevice> dm = new LinkedHashMap<>();
    Map<String, String> dmOwner = new TreeMap<>();
    Map<String, NvmetSubsystem> subs = new TreeMap<>();
    Map<String, String> subOwner = new TreeMap<>();
    Map<Integer, MergedPort> ports = new TreeMap<>();
    Map<ConnectionKey, FabricConnection> conns = new LinkedHashMap<>();

    for (Map.Entry<String, DesiredState> e : new TreeMap<>(held).entrySet()) {
      String volume = e.getKey();
      DesiredState d = e.getValue();
      try {
        Validation.desired(d);
      } catch (KernelException ex) {
        throw new KernelException("volume " + volume + ": " + ex.getMessage(), ex);
      }
      for (DmDevice dev : d.dmDevices()) {
        DmDevice prior = dm.putIfAbsent(dev.name(), dev);
        if (prior != null && !prior.equals(dev)) {
          throw conflict("dm device " + dev.name(), dmOwner.get(dev.name()), volume);
        }
        dmOwner.putIfAbsent(dev.name(), volume);
        for (DesiredState.DmTableLine line : dev.table()) {
          for (String token : Validation.tokens(line.args())) {
            if (DeviceRef.parse(token).orElse(null) instanceof DeviceRef.Disk disk
                && !diskPaths.containsKey(disk.diskId())) {
              throw new KernelException("volume " + volume + ": dm device " + dev.name()
                  + " uses disk " + disk.diskId() + ", which is not registered on this node");
            }
          }
        }
      }
      for (NvmetSubsystem s : d.subsystems()) {
        NvmetSubsystem prior = subs.putIfAbsent(s.nqn(), s);
        if (prior != null && !prior.equals(s)) {
          throw conflict("subsystem " + s.nqn(), subOwner.get(s.nqn()), volume);
        }
        subOwner.putIfAbsent(s.nqn(), volume);
      }
      for (NvmetPort p : d.ports()) {
        MergedPort prior = ports.get(p.portId());
        if (prior == null) {
          ports.put(p.portId(), new MergedPort(p.portId(), p.transport(), p.addressFamily(), p.address(),
              p.serviceId(), new TreeMap<>(p.anaGroups()), new TreeSet<>(p.subsystems())));
          continue;
        }
        if (!prior.transport().equals(p.transport()) || !prior.addressFamily().equals(p.addressFamily())
            || !prior.address().equals(p.address()) || prior.serviceId() != p.serviceId()) {
          throw new KernelException("port " + p.portId() + " declared with two addresses: "
              + prior.transport() + " " + prior.address() + ":" + prior.serviceId() + " and "
              + p.transport() + " " + p.address() + ":" + p.serviceId() + " (volume " + volume + ")");
        }
        for (Map.Entry<Integer, AnaState> g : p.anaGroups().entrySet()) {
          AnaState was = prior.anaGroups().putIfAbsent(g.getKey(), g.getValue());
          if (was != null && was != g.getValue()) {
            throw new KernelException("ANA group " + g.getKey() + " on port " + p.portId()
                + " declared both " + was.kernelName() + " and " + g.getValue().kernelName()
                + " (volume " + volume + ")");
          }
        }
        prior.subsystems().addAll(p.subsystems());
      }
      for (FabricConnection c : d.connections()) {
        ConnectionKey key = new ConnectionKey(c.subsystemNqn(), c.address(), c.serviceId());
        FabricConnection prior = conns.putIfAbsent(key, c);
        if (prior != null && !prior.equals(c)) {
          throw new KernelException("connection to " + c.subsystemNqn() + " at " + c.address() + ":"
              + c.serviceId() + " declared twice with different options (volume " + volume + ")");
        }
      }
    }
    for (MergedPort p : ports.values()) {
      for (String nqn : p.subsystems()) {
        if (!subs.containsKey(nqn)) {
          throw new KernelException("port " + p.portId() + " links subsystem " + nqn
              + ", which no volume declares on this node");
        }
      }
    }
    return new DesiredUnion(dm, dmOwner, subs, subOwner, ports, conns);
  }

  /** Desired dm devices, every device after the devices its table uses (bottom-up). */
  public List<DmDevice> dmBottomUp() throws KernelException {
    List<DmDevice> order = new ArrayList<>();
    Set<String> done = new LinkedHashSet<>();
    Set<String> visiting = new LinkedHashSet<>();
    for (String name : new TreeSet<>(dmDevices.keySet())) {
      visit(name, done, visiting, order);
    }
    return order;
  }

  private void visit(String name, Set<String> done, Set<String> visiting, List<DmDevice> order)
      throws KernelException {
    if (done.contains(name)) {
      return;
    }
    if (!visiting.add(name)) {
      throw new KernelException("dm devices refer to each other in a cycle through " + name);
    }
    DmDevice dev = dmDevices.get(name);
    for (String lower : dmRefs(dev.table())) {
      if (!dmDevices.containsKey(lower)) {
        throw new KernelException("dm device " + name + " uses @dm:" + lower
            + ", which no volume declares on this node");
      }
      visit(lower, done, visiting, order);
    }
    visiting.remove(name);
    done.add(name);
    order.add(dev);
  }

  /** Names of the dm devices a table refers to, symbolically or by /dev/mapper path. */
  public static Set<String> dmRefs(List<DesiredState.DmTableLine> table) {
    Set<String> refs = new TreeSet<>();
    for (DesiredState.DmTableLine line : table) {
      for (String token : Validation.tokens(line.args())) {
        if (token.startsWith(DeviceRef.DM)) {
          refs.add(token.substring(DeviceRef.DM.length()));
        } else if (token.startsWith("/dev/mapper/")) {
          refs.add(token.substring("/dev/mapper/".length()));
        }
      }
    }
    return refs;
  }

  private static KernelException conflict(String what, String first, String second) {
    return new KernelException(what + " is declared differently by volumes " + first + " and " + second);
  }
}
