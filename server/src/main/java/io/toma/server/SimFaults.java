package io.toma.server;

import io.toma.api.ApiResult;
import io.toma.api.DemoFaults;
import io.toma.api.FaultRequest;
import io.toma.kernel.sim.SimNode;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The demo's fault switches over the simulated world and the demo's members.
 *
 * <ul>
 *   <li>{@code disk} with the disk id ({@code node-1-nvme0}) or {@code node:disk} (the API refuses
 *       '/' in a target): the simulated disk fails every I/O, for good.
 *   <li>{@code link} target, peer: the NVMe-oF fabric between two simulated nodes is cut (the
 *       cluster's own gossip still flows: this is a storage-network fault).
 *   <li>{@code node}: the simulated kernel crashes <em>and</em> the node's ActorSystem terminates
 *       without leaving, a real member loss seen by gossip. Never manager-1.
 *   <li>{@code rack}: every storage node of the rack, as {@code node}.
 *   <li>heal: cut links healed, crashed kernels rebooted (empty: the agent rebuilds them from its
 *       store), crashed members started again as new incarnations on their addresses.
 * </ul>
 */
final class SimFaults implements DemoFaults {
  private static final Logger log = LoggerFactory.getLogger(SimFaults.class);

  private record Link(String a, String b) {}

  private final SimWorld world;
  private final List<NodePlan> plans;
  private final DemoMembers demo;
  private final Set<Link> cutLinks = new LinkedHashSet<>();
  private final Set<String> crashedKernels = new LinkedHashSet<>();
  private final Set<String> crashedMembers = new LinkedHashSet<>();

  SimFaults(SimWorld world, List<NodePlan> plans, DemoMembers demo) {
    this.world = world;
    this.plans = List.copyOf(plans);
    this.demo = demo;
  }

  @Override
  public synchronized CompletionStage<ApiResult<String>> inject(FaultRequest fault) {
    ApiResult<String> result = switch (fault.kind()) {
      case DISK -> killDisk(fault.target());
      case LINK -> cutLink(fault.target(), fault.peer().orElse(""));
      case NODE -> crashNodes(List.of(fault.target()), "node " + fault.target());
      case RACK -> crashRack(fault.target());
    };
    if (result instanceof ApiResult.Ok<String> ok) {
      log.warn("demo fault injected: {}", ok.value());
    }
    return CompletableFuture.completedFuture(result);
  }

  @Override
  public CompletionStage<ApiResult<String>> heal() {
    List<Link> links;
    List<String> kernels;
    List<String> members;
    synchronized (this) {
      links = List.copyOf(cutLinks);
      kernels = List.copyOf(crashedKernels);
      members = List.copyOf(crashedMembers);
      cutLinks.clear();
      crashedKernels.clear();
      crashedMembers.clear();
    }
    links.forEach(l -> world.cluster().healLink(l.a(), l.b()));
    kernels.forEach(n -> world.cluster().restart(n));
    // Starting a member waits for its journal and cluster port: off the HTTP thread.
    return CompletableFuture.supplyAsync(() -> {
      List<String> healed = new ArrayList<>();
      links.forEach(l -> healed.add("link " + l.a() + "<->" + l.b()));
      kernels.forEach(n -> healed.add("kernel of " + n + " rebooted"));
      for (String m : members) {
        try {
          demo.restart(m);
          healed.add(m + " rejoined");
        } catch (RuntimeException e) {
          healed.add(m + " could not start again: " + e.getMessage());
        }
      }
      String message = healed.isEmpty()
          ? "nothing to heal (dead disks stay dead: Toma rebuilds their data elsewhere)"
          : "healed: " + String.join(", ", healed) + " (dead disks stay dead)";
      log.warn("demo faults: {}", message);
      return ApiResult.ok(message);
    });
  }

  private ApiResult<String> killDisk(String target) {
    Optional<String[]> found = findDisk(target);
    if (found.isEmpty()) {
      return ApiResult.notFound("no disk " + target + " (name it by id, e.g. node-1-nvme0, or node-1:node-1-nvme0)");
    }
    String node = found.get()[0];
    String disk = found.get()[1];
    world.cluster().killDisk(node, disk);
    return ApiResult.ok("disk " + disk + " on " + node + " died: every I/O on it fails from now on");
  }

  private Optional<String[]> findDisk(String target) {
    String[] parts = target.split("[:/]", 2);
    for (SimNode n : world.cluster().nodes()) {
      if (parts.length == 2 && !n.id().equals(parts[0])) {
        continue;
      }
      String disk = parts.length == 2 ? parts[1] : parts[0];
      if (n.diskById(disk).isPresent()) {
        return Optional.of(new String[] {n.id(), disk});
      }
    }
    return Optional.empty();
  }

  private ApiResult<String> cutLink(String a, String b) {
    if (!isSimNode(a) || !isSimNode(b) || a.equals(b)) {
      return ApiResult.notFound("a link joins two different storage nodes (or " + DemoHost.NODE_ID
          + "): no link " + a + "<->" + b);
    }
    world.cluster().cutLink(a, b);
    cutLinks.add(new Link(a, b));
    return ApiResult.ok("NVMe-oF link " + a + "<->" + b + " cut (both directions)");
  }

  private ApiResult<String> crashRack(String rack) {
    List<String> nodes = plans.stream()
        .filter(p -> NodeRuntime.hasStorageRole(p) && p.settings().node().rack().equals(rack))
        .map(NodePlan::nodeId)
        .toList();
    if (nodes.isEmpty()) {
      return ApiResult.notFound("no storage node in rack " + rack);
    }
    return crashNodes(nodes, "rack " + rack + " (" + String.join(", ", nodes) + ")");
  }

  private ApiResult<String> crashNodes(List<String> nodeIds, String what) {
    for (String id : nodeIds) {
      if (id.equals(DemoTopology.FAULT_EXEMPT_NODE)) {
        return ApiResult.invalid("target", DemoTopology.FAULT_EXEMPT_NODE + " serves this API and is never a fault target");
      }
      if (plans.stream().noneMatch(p -> p.nodeId().equals(id))) {
        return ApiResult.notFound("no node " + id);
      }
    }
    for (String id : nodeIds) {
      if (isSimNode(id) && world.cluster().node(id).isUp()) {
        world.cluster().crash(id);
        crashedKernels.add(id);
      }
      if (demo.isRunning(id)) {
        demo.crash(id);
        crashedMembers.add(id);
      }
    }
    return ApiResult.ok(what + " crashed: kernel stopped, cluster member gone without leaving");
  }

  private boolean isSimNode(String id) {
    return world.cluster().nodes().stream().anyMatch(n -> n.id().equals(id));
  }
}
