package io.toma.kernel.sim;

import static io.toma.kernel.sim.VolumeStack.LEGS;
import static io.toma.kernel.sim.VolumeStack.legName;
import static org.junit.jupiter.api.Assertions.assertEquals;

import io.toma.kernel.KernelOp;
import io.toma.kernel.KernelState;
import io.toma.kernel.sim.VolumeStack.Slice;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.Random;
import org.junit.jupiter.api.Test;

class DeterminismTest {

  /** A run driven by a seed: writes, a disk death, a rebuild half done, link flaps. */
  private static List<Object> run(long seed) throws Exception {
    Random random = new Random(seed);
    VolumeStack stack = VolumeStack.built(VolumeStack.FAST_FAIL);
    List<Object> observed = new ArrayList<>();
    for (int i = 0; i < 20; i++) {
      long offset = random.nextInt((int) (VolumeStack.VOLUME / 8)) * 4096L;
      observed.add(stack.host.write(VolumeStack.VOLUME_NQN, offset, VolumeStack.pattern(random.nextLong(), 4096))
          .getClass().getSimpleName());
    }
    stack.cluster.killDisk("d1", "disk0");
    stack.cluster.cutLink("c1", "d3");
    stack.cluster.advance(Duration.ofMillis(random.nextInt(3000)));
    stack.cluster.healLink("c1", "d3");
    Slice replacement = new Slice("d3", 1);
    stack.exportSlice(replacement, "c1");
    stack.attachMember("c1", replacement);
    stack.kernel("c1").apply(new KernelOp.DmReload(legName(0),
        List.of(VolumeStack.raid1(List.of(replacement, LEGS.get(0).get(1)), Optional.of(0)))));
    stack.kernel("c1").apply(new KernelOp.DmResume(legName(0)));
    stack.cluster.advance(Duration.ofMillis(random.nextInt(200)));
    for (SimNode node : stack.cluster.nodes()) {
      KernelState state = node.kernel().read();
      observed.add(state);
      observed.add(state.dmDevices().values().stream().map(KernelState.DmDeviceState::status).sorted().toList());
    }
    observed.add(stack.host.read(VolumeStack.VOLUME_NQN, 0, 1 << 20) instanceof IoResult.Ok ok
        ? java.util.Arrays.hashCode(ok.data()) : "no data");
    return observed;
  }

  @Test
  void theSameSeedAndOperationsGiveTheSameKernelStatesAndData() throws Exception {
    for (long seed : new long[] {1, 2, 3}) {
      assertEquals(run(seed), run(seed), "seed " + seed);
    }
  }
}
