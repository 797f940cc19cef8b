package io.toma.kernel.reconcile;

import io.toma.kernel.DesiredState;
import io.toma.kernel.DesiredState.AnaState;
import io.toma.kernel.DesiredState.DmDevice;
import io.toma.kernel.DesiredState.DmTableLine;
import io.toma.kernel.DesiredState.FabricConnection;
import io.toma.kernel.DesiredState.NvmetNamespace;
import io.toma.kernel.DesiredState.NvmetSubsystem;
import io.toma.kernel.DeviceRef;
import io.toma.kernel.KernelException;
import io.toma.kernel.KernelOp;
import io.toma.kernel.KernelState;
import io.toma.kernel.KernelState.ControllerState;
import io.toma.kernel.KernelState.DmDeviceState;
import io.toma.kernel.KernelState.NamespaceState;
import io.toma.kernel.KernelState.PortState;
import io.toma.kernel.KernelState.SubsystemState;
import io.toma.kernel.Names;
import io.toma.kernel.Validation;
import io.toma.kernel.reconcile.DesiredUnion.ConnectionKey;
import io.toma.kernel.reconcile.DesiredUnion.MergedPort;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.regex.Pattern;

/**
 * The reconcile diff, a pure function: from what a node holds (every volume's desired state) and
 * what its kernel holds now, the operations that bring the kernel there, in an order the kernel
 * accepts (kernel-recipes.md, "Removal order"): first everything unwanted is taken down top-down,
 * then everything missing is built bottom-up.
 *
 * <p>Only objects carrying Toma's prefix (dm names, NQNs), or ports and host entries the
 * {@link AppliedRecord} says Toma made, are ever removed; anything else in the kernel is left alone.
 * The result is validated whole before it is returned, so no caller can half-apply bad input.
 */
public final class Reconciler {
  private Reconciler() {}

  private static final Pattern MAJOR_MINOR = Pattern.compile("[0-9]+:[0-9]+");
  /** nvmet creates ANA group 1 on every port by itself; it can neither be made nor removed. */
  static final int DEFAULT_ANA_GROUP = 1;

  public static List<KernelOp> diff(
      Map<String, DesiredState> held, KernelState actual, Map<String, String> diskPaths)
      throws KernelException {
    return diff(held, actual, diskPaths, AppliedRecord.empty());
  }

  public static List<KernelOp> diff(
      Map<String, DesiredState> held,
      KernelState actual,
      Map<String, String> diskPaths,
      AppliedRecord record)
      throws KernelException {
    DesiredUnion want = DesiredUnion.of(held, diskPaths);
    List<DmDevice> bottomUp = want.dmBottomUp();
    Resolver resolver = new Resolver(diskPaths, actual);

    List<KernelOp> removals = new ArrayList<>();
    List<KernelOp> creations = new ArrayList<>();

    // ---- ports: which stay, which go, which links go ----
    Set<Integer> portsToRemove = new TreeSet<>();
    Set<Integer> portsToCreate = new TreeSet<>();
    for (PortState p : sorted(actual.ports()).values()) {
      MergedPort w = want.ports().get(p.portId());
      boolean foreignLinks = p.subsystems().stream().anyMatch(s -> !isToma(s));
      boolean tomaPort = record.ports().contains(p.portId())
          || (!p.subsystems().isEmpty() && !foreignLinks);
      if (w == null) {
        if (tomaPort && !foreignLinks) {
          portsToRemove.add(p.portId());
        }
      } else if (!sameAddress(w, p)) {
        if (foreignLinks) {
          throw new KernelException("port " + p.portId() + " exists with another address ("
              + p.transport() + " " + p.address() + ":" + p.serviceId()
              + ") and serves subsystems Toma does not own; refusing to replace it");
        }
        portsToRemove.add(p.portId());
        portsToCreate.add(p.portId());
      }
    }
    for (Integer id : want.ports().keySet()) {
      if (!actual.ports().containsKey(id)) {
        portsToCreate.add(id);
      }
    }

    // Fencing on an epoch rise: a subsystem that lost an allowed host is unlinked from its ports
    // (which tears down every controller of it, the revoked one included) before the host is
    // disallowed, and linked again at the end. In this order an apply cut short anywhere still
    // fences when it is retried: either the lost host is still allowed (fence again) or the link
    // is missing (relinked like any missing link), and the revoked host can never reconnect.
    Set<String> fencedLinks = new TreeSet<>();
    for (Map.Entry<String, DesiredState> e : new TreeMap<>(held).entrySet()) {
      Long appliedEpoch = record.epochs().get(e.getKey());
      if (appliedEpoch == null || e.getValue().epoch() <= appliedEpoch) {
        continue;
      }
      for (NvmetSubsystem s : e.getValue().subsystems()) {
        SubsystemState live = actual.subsystems().get(s.nqn());
        if (live == null || s.allowedHosts().containsAll(live.allowedHosts())) {
          continue;
        }
        for (PortState p : actual.ports().values()) {
          if (p.subsystems().contains(s.nqn())) {
            fencedLinks.add(p.portId() + "/" + s.nqn());
          }
        }
      }
    }

    // R1: unlink subsystems from ports (tears their controllers down first)
    for (PortState p : sorted(actual.ports()).values()) {
      MergedPort w = want.ports().get(p.portId());
      for (String nqn : new TreeSet<>(p.subsystems())) {
        boolean wanted = w != null && !portsToRemove.contains(p.portId()) && w.subsystems().contains(nqn);
        if (isToma(nqn) && (!wanted || fencedLinks.contains(p.portId() + "/" + nqn))) {
          removals.add(new KernelOp.PortUnlinkSubsystem(p.portId(), nqn));
        }
      }
    }
    // R2: ANA groups and ports
    for (PortState p : sorted(actual.ports()).values()) {
      MergedPort w = want.ports().get(p.portId());
      boolean removing = portsToRemove.contains(p.portId());
      if (w == null && !removing) {
        continue; // not Toma's port: its groups are not ours either
      }
      for (Integer g : new TreeSet<>(p.anaGroups().keySet())) {
        if (g != DEFAULT_ANA_GROUP && (removing || !w.anaGroups().containsKey(g))) {
          removals.add(new KernelOp.AnaGroupRemove(p.portId(), g));
        }
      }
      if (removing) {
        removals.add(new KernelOp.PortRemove(p.portId()));
      }
    }

    // ---- subsystems ----
    Set<String> subsystemsToRemove = new TreeSet<>();
    List<KernelOp> nsRemovals = new ArrayList<>();
    List<KernelOp> disallows = new ArrayList<>();
    for (SubsystemState s : sorted(actual.subsystems()).values()) {
      if (!isToma(s.nqn())) {
        continue;
      }
      NvmetSubsystem w = want.subsystems().get(s.nqn());
      for (NamespaceState ns : new TreeMap<>(s.namespaces()).values()) {
        NvmetNamespace wns = w == null ? null : namespace(w, ns.nsid());
        if (wns == null || !sameNamespace(wns, ns, resolver)) {
          nsRemovals.add(new KernelOp.NamespaceRemove(s.nqn(), ns.nsid()));
        }
      }
      for (String h : new TreeSet<>(s.allowedHosts())) {
        if (w == null || !w.allowedHosts().contains(h)) {
          disallows.add(new KernelOp.SubsystemDisallowHost(s.nqn(), h));
        }
      }
      if (w == null) {
        subsystemsToRemove.add(s.nqn());
      }
    }
    removals.addAll(nsRemovals);
    removals.addAll(disallows);
    for (String nqn : subsystemsToRemove) {
      removals.add(new KernelOp.SubsystemRemove(nqn));
    }

    // ---- dm devices: which change ----
    Set<String> reloaded = new TreeSet<>();
    Map<String, Long> grownFrom = new TreeMap<>();
    List<KernelOp> dmCreations = new ArrayList<>();
    Map<String, KernelOp> wipes = new TreeMap<>(); // by the name of the device created after it
    for (DmDevice dev : bottomUp) {
      DmDeviceState live = actual.dmDevices().get(dev.name());
      if (live == null) {
        wipeIfNew(dev, record).ifPresent(w -> wipes.put(dev.name(), w));
        dmCreations.add(new KernelOp.DmCreate(dev.name(), dev.table()));
        continue;
      }
      if (!sameTable(dev, live, record, resolver)) {
        dmCreations.add(new KernelOp.DmReload(dev.name(), dev.table()));
        dmCreations.add(new KernelOp.DmSuspend(dev.name(), false));
        dmCreations.add(new KernelOp.DmResume(dev.name()));
        reloaded.add(dev.name());
        long before = sectors(live.table());
        if (sectors(dev.table()) > before) {
          grownFrom.put(dev.name(), before);
        }
      } else if (live.suspended()) {
        dmCreations.add(new KernelOp.DmResume(dev.name())); // an apply cut between suspend and resume
      }
    }

    // F: flush the volume's devices on an epoch rise: in-flight I/O of a fenced writer completes
    // or fails now, before a new controller takes over (suspend waits for it; resume lets I/O on).
    for (Map.Entry<String, DesiredState> e : new TreeMap<>(held).entrySet()) {
      DesiredState d = e.getValue();
      Long appliedEpoch = record.epochs().get(e.getKey());
      if (appliedEpoch == null || d.epoch() <= appliedEpoch) {
        continue;
      }
      List<DmDevice> own = new ArrayList<>();
      for (DmDevice dev : bottomUp) {
        if (d.dmDevices().contains(dev) && actual.dmDevices().containsKey(dev.name())
            && !reloaded.contains(dev.name())) {
          own.add(0, dev); // top-down: flush what is above before what is below
        }
      }
      for (DmDevice dev : own) {
        removals.add(new KernelOp.DmSuspend(dev.name(), false));
        removals.add(new KernelOp.DmResume(dev.name()));
      }
    }

    // R6: dm devices, top-down. A device that a staying device still uses (its table is about to
    // be reloaded away from it, e.g. an active controller demoted to an error placeholder) cannot
    // go yet: the kernel refuses with EBUSY. It and what it uses go after the reloads (D1).
    Set<String> dmToRemove = new TreeSet<>();
    for (String name : actual.dmDevices().keySet()) {
      if (name.startsWith(Names.PREFIX) && !want.dmDevices().containsKey(name)) {
        dmToRemove.add(name);
      }
    }
    Set<String> dmDeferred = stillInUse(dmToRemove, want, actual, record);
    Set<String> dmNow = new TreeSet<>(dmToRemove);
    dmNow.removeAll(dmDeferred);
    removals.addAll(removeTopDown(dmNow, actual, record));

    // R7: host-side connections (after the dm devices above them are gone). A controller is
    // Toma's when both its subsystem and its host NQN are: an application host on the same
    // machine (its own host NQN) connected to a Toma volume is not the agent's to cut.
    Set<String> ownHostNqns = new TreeSet<>();
    want.connections().values().forEach(c -> ownHostNqns.add(c.hostNqn()));
    Set<String> disconnected = new TreeSet<>();
    for (ControllerState c : actual.controllers()) {
      if (!isToma(c.subsystemNqn()) || !(isToma(c.hostNqn()) || ownHostNqns.contains(c.hostNqn()))) {
        continue;
      }
      ConnectionKey key = new ConnectionKey(c.subsystemNqn(), c.address(), c.serviceId());
      FabricConnection w = want.connections().get(key);
      if (w == null || !w.hostNqn().equals(c.hostNqn())) {
        disconnected.add(c.subsystemNqn());
      }
    }
    // A connection that a live table still uses (a deferred dm device's, or a staying device's
    // about to be reloaded away from it, e.g. a raid1 over the namespace of a replaced or dead
    // member) goes after the reloads, unless the same NQN is connected anew (a disconnect is by
    // NQN and would cut the new connection too).
    Set<String> namespaceDevicesInUse = new TreeSet<>();
    Set<String> liveUsers = new TreeSet<>(dmDeferred);
    want.dmDevices().keySet().stream().filter(actual.dmDevices()::containsKey).forEach(liveUsers::add);
    for (String name : liveUsers) {
      for (DmTableLine line : actual.dmDevices().get(name).table()) {
        namespaceDevicesInUse.addAll(Validation.tokens(line.args()));
      }
      for (DmTableLine line : record.tables().getOrDefault(name, List.of())) {
        for (String token : Validation.tokens(line.args())) {
          if (DeviceRef.parse(token).orElse(null) instanceof DeviceRef.Namespace) {
            resolver.resolve(token).ifPresent(namespaceDevicesInUse::add);
          }
        }
      }
    }
    Set<String> reconnected = new TreeSet<>();
    want.connections().keySet().forEach(k -> reconnected.add(k.subsystemNqn()));
    List<KernelOp> deferredDisconnects = new ArrayList<>();
    for (String nqn : disconnected) {
      boolean underDeferred = actual.controllers().stream()
          .filter(c -> c.subsystemNqn().equals(nqn))
          .flatMap(c -> c.namespaceDevicesByUuid().values().stream())
          .anyMatch(dev -> namespaceDevicesInUse.contains(dev.startsWith("/") ? dev : "/dev/" + dev));
      if (underDeferred && !reconnected.contains(nqn)) {
        deferredDisconnects.add(new KernelOp.Disconnect(nqn));
      } else {
        removals.add(new KernelOp.Disconnect(nqn));
      }
    }

    // R8: host entries nobody allows any more
    Set<String> hostsNeeded = new TreeSet<>();
    want.subsystems().values().forEach(s -> hostsNeeded.addAll(s.allowedHosts()));
    Set<String> hostsHeldByOthers = new HashSet<>();
    actual.subsystems().values().stream().filter(s -> !isToma(s.nqn()))
        .forEach(s -> hostsHeldByOthers.addAll(s.allowedHosts()));
    for (String h : new TreeSet<>(actual.hosts())) {
      boolean ours = isToma(h) || record.hosts().contains(h);
      if (ours && !hostsNeeded.contains(h) && !hostsHeldByOthers.contains(h)) {
        removals.add(new KernelOp.HostRemove(h));
      }
    }

    // ---- creation, bottom-up ----
    // A converged node (disk node and controller at once) connects to its own exports: everything
    // that stands on local disks only (slices and their exports) is built and linked first, then
    // the connections, then what stands on the fabric (the controller's stack and its export).
    // Connecting before the local export is linked is refused by the kernel, forever.
    Set<String> overFabric = overFabric(bottomUp);
    Set<String> subsystemsOverFabric = new TreeSet<>();
    for (NvmetSubsystem s : want.subsystems().values()) {
      for (NvmetNamespace ns : s.namespaces()) {
        DeviceRef ref = DeviceRef.parse(ns.devicePath()).orElse(null);
        if (ref instanceof DeviceRef.Namespace
            || (ref instanceof DeviceRef.Dm dm && overFabric.contains(dm.name()))) {
          subsystemsOverFabric.add(s.nqn());
        }
      }
    }
    // C1 hosts
    for (String h : hostsNeeded) {
      if (!actual.hosts().contains(h)) {
        creations.add(new KernelOp.HostCreate(h));
      }
    }
    // C2 local dm devices, bottom-up (slices of local disks)
    dmCreations.stream().filter(op -> !overFabric.contains(dmName(op))).forEach(op -> addAfterWipe(op, wipes, creations));
    // C3 ports
    for (Integer id : portsToCreate) {
      MergedPort p = want.ports().get(id);
      creations.add(new KernelOp.PortCreate(p.portId(), p.transport(), p.addressFamily(), p.address(),
          p.serviceId()));
    }
    // C4 local exports: subsystems, allowed hosts, namespaces
    exports(want, actual, resolver, grownFrom, nqn -> !subsystemsOverFabric.contains(nqn), creations);
    // C5 ANA groups and their states of ports serving only local exports
    anaGroups(want, actual, portsToCreate, p -> p.subsystems().stream().noneMatch(subsystemsOverFabric::contains),
        creations);
    // C6 links of the local exports: a subsystem is reachable only once it is complete
    links(want, actual, portsToCreate, fencedLinks, nqn -> !subsystemsOverFabric.contains(nqn), creations);
    // C7 connections, before the dm devices that use their namespaces
    Set<ConnectionKey> live = new HashSet<>();
    for (ControllerState c : actual.controllers()) {
      if (!disconnected.contains(c.subsystemNqn())) {
        live.add(new ConnectionKey(c.subsystemNqn(), c.address(), c.serviceId()));
      }
    }
    for (Map.Entry<ConnectionKey, FabricConnection> c : want.connections().entrySet()) {
      if (!live.contains(c.getKey())) {
        creations.add(new KernelOp.Connect(c.getValue()));
      }
    }
    // C8 dm devices over the fabric, bottom-up (member slices, raid1 legs, raid0)
    dmCreations.stream().filter(op -> overFabric.contains(dmName(op))).forEach(op -> addAfterWipe(op, wipes, creations));
    // D1 what the reloads above released: dm devices top-down, then the connections under them
    creations.addAll(removeTopDown(dmDeferred, actual, record));
    creations.addAll(deferredDisconnects);
    // C9 exports over the fabric (the controller's volume), and their links last
    exports(want, actual, resolver, grownFrom, subsystemsOverFabric::contains, creations);
    anaGroups(want, actual, portsToCreate, p -> p.subsystems().stream().anyMatch(subsystemsOverFabric::contains),
        creations);
    links(want, actual, portsToCreate, fencedLinks, subsystemsOverFabric::contains, creations);

    List<KernelOp> ops = new ArrayList<>(removals);
    ops.addAll(creations);
    Validation.ops(ops);
    return List.copyOf(ops);
  }

  // ---- creation helpers ----

  /** The wanted dm devices that stand, directly or through other dm devices, on an @ns ref. */
  static Set<String> overFabric(List<DmDevice> bottomUp) {
    Set<String> out = new TreeSet<>();
    for (DmDevice dev : bottomUp) {
      for (DmTableLine line : dev.table()) {
        for (String token : Validation.tokens(line.args())) {
          DeviceRef ref = DeviceRef.parse(token).orElse(null);
          if (ref instanceof DeviceRef.Namespace
              || (ref instanceof DeviceRef.Dm dm && out.contains(dm.name()))) {
            out.add(dev.name());
          }
        }
      }
    }
    return out;
  }

  /** A creation, right after the wipe of its lower device if it asked for one. */
  private static void addAfterWipe(KernelOp op, Map<String, KernelOp> wipes, List<KernelOp> out) {
    if (op instanceof KernelOp.DmCreate c && wipes.containsKey(c.name())) {
      out.add(wipes.get(c.name()));
    }
    out.add(op);
  }

  private static String dmName(KernelOp op) {
    if (op instanceof KernelOp.DmCreate c) {
      return c.name();
    } else if (op instanceof KernelOp.DmReload r) {
      return r.name();
    } else if (op instanceof KernelOp.DmSuspend s) {
      return s.name();
    } else if (op instanceof KernelOp.DmResume r) {
      return r.name();
    }
    throw new IllegalArgumentException("not a dm operation: " + op);
  }

  private static void exports(DesiredUnion want, KernelState actual, Resolver resolver,
      Map<String, Long> grownFrom, java.util.function.Predicate<String> which, List<KernelOp> out) {
    for (NvmetSubsystem s : want.subsystems().values()) {
      if (!which.test(s.nqn())) {
        continue;
      }
      SubsystemState liveSub = actual.subsystems().get(s.nqn());
      if (liveSub == null) {
        out.add(new KernelOp.SubsystemCreate(s.nqn(), s.cntlidMin(), s.cntlidMax()));
      }
      for (String h : new TreeSet<>(s.allowedHosts())) {
        if (liveSub == null || !liveSub.allowedHosts().contains(h)) {
          out.add(new KernelOp.SubsystemAllowHost(s.nqn(), h));
        }
      }
    }
    for (NvmetSubsystem s : want.subsystems().values()) {
      if (!which.test(s.nqn())) {
        continue;
      }
      SubsystemState liveSub = actual.subsystems().get(s.nqn());
      for (NvmetNamespace ns : s.namespaces()) {
        NamespaceState liveNs = liveSub == null ? null : liveSub.namespaces().get(ns.nsid());
        if (liveNs == null || !sameNamespace(ns, liveNs, resolver)) {
          out.add(new KernelOp.NamespaceCreate(s.nqn(), ns.nsid(), ns.devicePath(),
              ns.deviceUuid(), ns.anaGroupId()));
        } else if (DeviceRef.parse(ns.devicePath()).orElse(null) instanceof DeviceRef.Dm dm
            && grownFrom.containsKey(dm.name())) {
          out.add(new KernelOp.NamespaceRevalidate(s.nqn(), ns.nsid()));
        }
      }
    }
  }

  private static void anaGroups(DesiredUnion want, KernelState actual, Set<Integer> portsToCreate,
      java.util.function.Predicate<MergedPort> which, List<KernelOp> out) {
    for (MergedPort p : want.ports().values()) {
      if (!which.test(p)) {
        continue;
      }
      PortState livePort = portsToCreate.contains(p.portId()) ? null : actual.ports().get(p.portId());
      for (Map.Entry<Integer, AnaState> g : p.anaGroups().entrySet()) {
        AnaState liveState = livePort == null ? null : livePort.anaGroups().get(g.getKey());
        boolean exists = liveState != null
            || (livePort != null && livePort.anaGroups().containsKey(g.getKey()));
        if (!exists && g.getKey() != DEFAULT_ANA_GROUP) {
          // group 1 is never created: the kernel makes it with the port
          out.add(new KernelOp.AnaGroupCreate(p.portId(), g.getKey()));
        }
        if (liveState != g.getValue()) {
          out.add(new KernelOp.AnaGroupSetState(p.portId(), g.getKey(), g.getValue()));
        }
      }
    }
  }

  private static void links(DesiredUnion want, KernelState actual, Set<Integer> portsToCreate,
      Set<String> fencedLinks, java.util.function.Predicate<String> which, List<KernelOp> out) {
    for (MergedPort p : want.ports().values()) {
      PortState livePort = portsToCreate.contains(p.portId()) ? null : actual.ports().get(p.portId());
      for (String nqn : p.subsystems()) {
        if (which.test(nqn) && (livePort == null || !livePort.subsystems().contains(nqn)
            || fencedLinks.contains(p.portId() + "/" + nqn))) {
          out.add(new KernelOp.PortLinkSubsystem(p.portId(), nqn));
        }
      }
    }
  }

  // ---- comparisons ----

  private static boolean sameAddress(MergedPort w, PortState p) {
    return w.transport().equals(p.transport()) && w.addressFamily().equals(p.addressFamily())
        && w.address().equals(p.address()) && w.serviceId() == p.serviceId();
  }

  private static NvmetNamespace namespace(NvmetSubsystem s, int nsid) {
    for (NvmetNamespace ns : s.namespaces()) {
      if (ns.nsid() == nsid) {
        return ns;
      }
    }
    return null;
  }

  private static boolean sameNamespace(NvmetNamespace want, NamespaceState live, Resolver resolver) {
    return want.deviceUuid().equalsIgnoreCase(live.deviceUuid())
        && want.anaGroupId() == live.anaGroupId()
        && live.enabled()
        && resolver.sameDevice(want.devicePath(), live.devicePath());
  }

  /**
   * Equal tables give no operation. With a record of what Toma loaded, that record is compared as
   * written (symbolic), and the live table only has to keep its shape (lines, lengths, targets):
   * drift of shape is reloaded. Without one (created by an apply that was cut short), devices
   * are compared after resolving symbolic references; a {@code major:minor} printed by the kernel
   * matches any device, because the kernel prints nothing better.
   */
  /**
   * The wipe a brand-new device asks for: its first sectors zeroed on its lower device, before it
   * is created. A device the record says Toma created before (its kernel object lost to a reboot)
   * holds live data and is never wiped; nor is any table but a single linear line.
   */
  static Optional<KernelOp> wipeIfNew(DmDevice dev, AppliedRecord record) {
    if (dev.wipeSectorsWhenNew() == 0 || record.tables().containsKey(dev.name()) || dev.table().size() != 1) {
      return Optional.empty();
    }
    DmTableLine line = dev.table().get(0);
    List<String> args = Validation.tokens(line.args());
    if (!line.target().equals("linear") || args.size() != 2) {
      return Optional.empty();
    }
    long offset = Long.parseLong(args.get(1));
    return Optional.of(new KernelOp.ZeroSectors(args.get(0), offset, Math.min(dev.wipeSectorsWhenNew(), line.length())));
  }

  static boolean sameTable(DmDevice want, DmDeviceState live, AppliedRecord record, Resolver resolver) {
    if (!sameShape(want.table(), live.table())) {
      return false;
    }
    List<DmTableLine> loaded = record.tables().get(want.name());
    if (loaded != null) {
      return loaded.equals(want.table());
    }
    for (int i = 0; i < want.table().size(); i++) {
      List<String> w = Validation.tokens(want.table().get(i).args());
      List<String> l = Validation.tokens(live.table().get(i).args());
      if (w.size() != l.size()) {
        return false;
      }
      for (int j = 0; j < w.size(); j++) {
        String wt = w.get(j);
        String lt = l.get(j);
        boolean isDevice = DeviceRef.parse(wt).isPresent();
        if (wt.equals(lt) || (isDevice && (MAJOR_MINOR.matcher(lt).matches() || resolver.sameDevice(wt, lt)))) {
          continue;
        }
        return false;
      }
    }
    return true;
  }

  private static boolean sameShape(List<DmTableLine> want, List<DmTableLine> live) {
    if (want.size() != live.size()) {
      return false;
    }
    for (int i = 0; i < want.size(); i++) {
      DmTableLine w = want.get(i);
      DmTableLine l = live.get(i);
      if (w.start() != l.start() || w.length() != l.length() || !w.target().equals(l.target())) {
        return false;
      }
    }
    return true;
  }

  private static long sectors(List<DmTableLine> table) {
    return table.stream().mapToLong(DmTableLine::length).sum();
  }

  /**
   * Unwanted dm devices, each before the devices it uses. Who uses whom comes from the record
   * (symbolic tables) and from /dev/mapper paths or @dm refs in the live tables.
   */
  private static List<KernelOp> removeTopDown(Set<String> names, KernelState actual, AppliedRecord record) {
    Map<String, Set<String>> uses = new TreeMap<>();
    for (String name : names) {
      Set<String> lower = new TreeSet<>(DesiredUnion.dmRefs(actual.dmDevices().get(name).table()));
      lower.addAll(DesiredUnion.dmRefs(record.tables().getOrDefault(name, List.of())));
      lower.retainAll(names);
      uses.put(name, lower);
    }
    // Kahn's algorithm on "is used by": remove a device once nothing left uses it.
    List<KernelOp> out = new ArrayList<>();
    Set<String> left = new LinkedHashSet<>(names);
    while (!left.isEmpty()) {
      String next = null;
      for (String candidate : left) {
        boolean usedByOther = left.stream().anyMatch(o -> !o.equals(candidate) && uses.get(o).contains(candidate));
        if (!usedByOther) {
          next = candidate;
          break;
        }
      }
      if (next == null) {
        next = left.iterator().next(); // a cycle cannot exist in a kernel; keep going regardless
      }
      left.remove(next);
      out.add(new KernelOp.DmRemove(next));
    }
    return out;
  }

  /**
   * The devices among {@code toRemove} that a staying device's current table (as recorded, or
   * live) still uses, and everything among {@code toRemove} that those use in turn.
   */
  private static Set<String> stillInUse(Set<String> toRemove, DesiredUnion want, KernelState actual,
      AppliedRecord record) {
    Set<String> held = new TreeSet<>();
    for (String staying : want.dmDevices().keySet()) {
      DmDeviceState live = actual.dmDevices().get(staying);
      if (live == null) {
        continue;
      }
      Set<String> uses = new TreeSet<>(DesiredUnion.dmRefs(live.table()));
      uses.addAll(DesiredUnion.dmRefs(record.tables().getOrDefault(staying, List.of())));
      uses.retainAll(toRemove);
      held.addAll(uses);
    }
    List<String> work = new ArrayList<>(held);
    while (!work.isEmpty()) {
      String name = work.remove(work.size() - 1);
      Set<String> lower = new TreeSet<>(DesiredUnion.dmRefs(actual.dmDevices().get(name).table()));
      lower.addAll(DesiredUnion.dmRefs(record.tables().getOrDefault(name, List.of())));
      lower.retainAll(toRemove);
      for (String l : lower) {
        if (held.add(l)) {
          work.add(l);
        }
      }
    }
    return held;
  }

  private static boolean isToma(String nqn) {
    return nqn.startsWith(Names.NQN_PREFIX);
  }

  private static <K extends Comparable<K>, V> Map<K, V> sorted(Map<K, V> map) {
    return new TreeMap<>(map);
  }

  /** Resolves symbolic device references against the node's disks and the kernel's namespaces. */
  static final class Resolver {
    private final Map<String, String> diskPaths;
    private final Map<String, String> namespaceDevices = new TreeMap<>();

    Resolver(Map<String, String> diskPaths, KernelState actual) {
      this.diskPaths = diskPaths;
      for (ControllerState c : actual.controllers()) {
        c.namespaceDevicesByUuid().forEach((uuid, dev) ->
            namespaceDevices.put(uuid.toLowerCase(), dev.startsWith("/") ? dev : "/dev/" + dev));
      }
    }

    Optional<String> resolve(String ref) {
      Optional<DeviceRef> parsed = DeviceRef.parse(ref);
      if (parsed.isEmpty()) {
        return Optional.empty();
      }
      DeviceRef r = parsed.get();
      if (r instanceof DeviceRef.Disk d) {
        return Optional.ofNullable(diskPaths.get(d.diskId()));
      } else if (r instanceof DeviceRef.Dm d) {
        return Optional.of("/dev/mapper/" + d.name());
      } else if (r instanceof DeviceRef.Namespace n) {
        return Optional.ofNullable(namespaceDevices.get(n.uuid().toLowerCase()));
      }
      return Optional.of(((DeviceRef.Path) r).path());
    }

    /**
     * Does the live device path name the desired device? An @ns device not yet visible counts as
     * the same: recreating an export only because a path is momentarily down would cut the host.
     */
    boolean sameDevice(String want, String live) {
      if (want.equals(live)) {
        return true;
      }
      Optional<String> resolved = resolve(want);
      if (resolved.isEmpty()) {
        return want.startsWith(DeviceRef.NS);
      }
      return resolved.get().equals(live);
    }
  }
}
