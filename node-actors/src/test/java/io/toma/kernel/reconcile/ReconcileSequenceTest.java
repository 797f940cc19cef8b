package io.toma.kernel.reconcile;

import static io.toma.kernel.fake.Fixtures.*;
import static org.junit.jupiter.api.Assertions.*;

import io.toma.kernel.DesiredState;
import io.toma.kernel.DesiredState.AnaState;
import io.toma.kernel.DesiredState.NvmetPort;
import io.toma.kernel.DesiredState.NvmetSubsystem;
import io.toma.kernel.KernelOp;
import io.toma.kernel.KernelState;
import io.toma.kernel.Names;
import io.toma.kernel.fake.FakeKernel;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.TreeMap;
import org.junit.jupiter.api.Test;

/**
 * Random sequences of what the topology manager might send one node (create, grow, attach,
 * detach, fence, fail over, delete), each reconciled on a kernel that refuses wrong orders. After
 * every step the kernel must hold exactly the desired objects and a second diff must be empty.
 * A failure prints its seed.
 */
class ReconcileSequenceTest {
  private static final String OTHER_CONTROLLER = Names.NQN_PREFIX + "host:ctrl-b";

  @Test
  void any_sequence_of_desired_states_converges_in_one_reconcile_and_then_does_nothing() {
    for (long seed = 1; seed <= 40; seed++) {
      try {
        run(seed);
      } catch (Throwable t) {
        throw new AssertionError("seed " + seed + " failed (replay: run(" + seed + "L)): " + t, t);
      }
    }
  }

  private void run(long seed) throws Exception {
    Random random = new Random(seed);
    FakeKernel kernel = controllerKernel("vc");
    AppliedRecord record = AppliedRecord.empty();
    Map<String, DesiredState> held = new TreeMap<>();
    Map<String, Long> epochs = new TreeMap<>(Map.of("va", 1L, "vb", 1L, "vc", 1L));
    for (int step = 0; step < 25; step++) {
      String volume = List.of("va", "vb", "vc").get(random.nextInt(3));
      if (random.nextInt(5) == 0) {
        held.remove(volume);
      } else {
        if (random.nextInt(4) == 0) {
          epochs.merge(volume, 1L, Long::sum);
        }
        held.put(volume, variant(volume, random, epochs.get(volume)));
      }
      List<KernelOp> ops = Reconciler.diff(held, kernel.read(), DISKS, record);
      for (KernelOp op : ops) {
        kernel.apply(op);
        record = record.after(op);
      }
      record = record.withEpochsOf(held);
      assertEquals(List.of(), Reconciler.diff(held, kernel.read(), DISKS, record), "step " + step);
      assertHoldsExactly(held, kernel.read());
    }
  }

  private static DesiredState variant(String volume, Random random, long epoch) {
    List<String> hosts = random.nextBoolean() ? List.of(CONTROLLER_HOST) : List.of(OTHER_CONTROLLER);
    long size = random.nextBoolean() ? 1000 : 2000;
    switch (volume) {
      case "va":
        return diskNode("va", size, epoch, hosts);
      case "vb": {
        DesiredState d = diskNode("vb", size, epoch, hosts);
        // on disk d1, its own subsystem, sharing port 1 with va
        var dev = new DesiredState.DmDevice("toma-vb-m0", List.of(line(size, "linear", "@disk:d1 0")));
        NvmetSubsystem s = d.subsystems().get(0);
        NvmetSubsystem s2 = new NvmetSubsystem(s.nqn(), s.allowedHosts(),
            List.of(new DesiredState.NvmetNamespace(1, "@dm:toma-vb-m0", M1_UUID, 1, true)), s.cntlidMin(), s.cntlidMax());
        NvmetPort p = d.ports().get(0);
        return new DesiredState("vb", epoch, List.of(dev), List.of(s2), List.of(p), List.of());
      }
      default: {
        DesiredState c = controller("vc", random.nextBoolean() ? AnaState.OPTIMIZED : AnaState.INACCESSIBLE);
        List<String> apps = random.nextBoolean() ? List.of(APP_HOST)
            : List.of(APP_HOST, "nqn.2014-08.org.nvmexpress:uuid:99999999-2222-3333-4444-555555555555");
        NvmetSubsystem s = c.subsystems().get(0);
        List<DesiredState.DmDevice> devices = new ArrayList<>(c.dmDevices());
        if (random.nextBoolean()) {
          String rebuilt = devices.get(4).table().get(0).args().replace("raid1 3 0 region_size 1024",
              "raid1 5 0 region_size 1024 rebuild 1");
          devices.set(4, new DesiredState.DmDevice("toma-vc-leg0", List.of(line(253952, "raid", rebuilt))));
        }
        return new DesiredState("vc", epoch, devices,
            List.of(new NvmetSubsystem(s.nqn(), apps, s.namespaces(), s.cntlidMin(), s.cntlidMax())),
            c.ports(), c.connections());
      }
    }
  }

  private static void assertHoldsExactly(Map<String, DesiredState> held, KernelState k) {
    var wantDm = new java.util.TreeSet<String>();
    var wantSubs = new java.util.TreeSet<String>();
    var wantPorts = new java.util.TreeSet<Integer>();
    held.values().forEach(d -> {
      d.dmDevices().forEach(x -> wantDm.add(x.name()));
      d.subsystems().forEach(x -> wantSubs.add(x.nqn()));
      d.ports().forEach(x -> wantPorts.add(x.portId()));
    });
    assertEquals(wantDm, new java.util.TreeSet<>(k.dmDevices().keySet()));
    assertEquals(wantSubs, new java.util.TreeSet<>(k.subsystems().keySet()));
    assertEquals(wantPorts, new java.util.TreeSet<>(k.ports().keySet()));
  }
}
