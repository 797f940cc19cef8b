package io.toma.server;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.toma.api.ApiResult;
import io.toma.api.FaultKind;
import io.toma.api.FaultRequest;
import io.toma.kernel.KernelException;
import io.toma.kernel.sim.IoResult;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** Fault switches that need no running member: disks, links, unknown targets, manager-1. */
class SimFaultsTest {
  private final List<NodePlan> plans = DemoTopology.plans(io.toma.config.TomaConfig.load());
  private final SimWorld world = SimWorld.start(plans);
  private final List<String> events = new java.util.concurrent.CopyOnWriteArrayList<>();
  private final java.util.Set<String> running = new java.util.concurrent.ConcurrentSkipListSet<>(
      plans.stream().map(NodePlan::nodeId).toList());
  private final SimFaults faults = new SimFaults(world, plans, new DemoMembers() {
    @Override
    public boolean isRunning(String nodeId) {
      return running.contains(nodeId);
    }

    @Override
    public java.util.concurrent.CompletableFuture<Void> crash(String nodeId) {
      running.remove(nodeId);
      events.add("crash " + nodeId);
      return java.util.concurrent.CompletableFuture.completedFuture(null);
    }

    @Override
    public void restart(String nodeId) {
      running.add(nodeId);
      events.add("restart " + nodeId);
    }
  });

  @AfterEach
  void close() {
    world.close();
  }

  private ApiResult<String> inject(FaultKind kind, String target, String peer) {
    return faults.inject(new FaultRequest(kind, target, Optional.ofNullable(peer))).toCompletableFuture().join();
  }

  @Test
  void aKilledDiskFailsEveryIoAndCanBeNamedByIdOrByNodeAndId() throws KernelException {
    assertInstanceOf(ApiResult.Ok.class, inject(FaultKind.DISK, "node-1-nvme0", null));
    assertInstanceOf(ApiResult.Ok.class, inject(FaultKind.DISK, "node-3:node-3-nvme1", null));
    var disk = world.cluster().node("node-1").disk("node-1-nvme0");
    IoResult read = world.cluster().node("node-1").kernel().readDevice(disk.path(), 0, 512);
    assertInstanceOf(IoResult.Error.class, read);
    assertInstanceOf(ApiResult.NotFound.class, inject(FaultKind.DISK, "node-9-nvme0", null));
  }

  @Test
  void aCutLinkIsHealedByHeal() {
    assertInstanceOf(ApiResult.Ok.class, inject(FaultKind.LINK, "node-2", "node-1"));
    ApiResult<String> healed = faults.heal().toCompletableFuture().join();
    String message = assertInstanceOf(ApiResult.Ok.class, healed).value().toString();
    assertTrue(message.contains("link node-2<->node-1"), message);
    assertInstanceOf(ApiResult.NotFound.class, inject(FaultKind.LINK, "node-2", "nobody"));
  }

  @Test
  void aRackFaultCrashesTheKernelAndTheMemberOfEveryStorageNodeInItAndHealBringsThemBack() {
    String message = assertInstanceOf(ApiResult.Ok.class, inject(FaultKind.RACK, "r2", null)).value().toString();
    assertTrue(message.contains("node-3, node-4"), message);
    assertFalse(world.cluster().node("node-3").isUp());
    assertFalse(world.cluster().node("node-4").isUp());
    assertTrue(world.cluster().node("node-1").isUp());
    assertEquals(List.of("crash node-3", "crash node-4"), events);

    faults.heal().toCompletableFuture().join();
    assertTrue(world.cluster().node("node-3").isUp());
    assertTrue(world.cluster().node("node-4").isUp());
    assertEquals(List.of("crash node-3", "crash node-4", "restart node-3", "restart node-4"), events);
  }

  @Test
  void manager1IsNeverAFaultTargetAndARackMustHoldStorage() {
    assertInstanceOf(ApiResult.Invalid.class, inject(FaultKind.NODE, "manager-1", null));
    assertInstanceOf(ApiResult.NotFound.class, inject(FaultKind.RACK, DemoTopology.MANAGER_RACK, null));
    assertFalse(world.cluster().nodes().stream().anyMatch(n -> !n.isUp()), "nothing crashed");
    assertEquals(7, world.cluster().nodes().size(), "six storage nodes and the demo host");
  }
}
