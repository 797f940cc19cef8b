package io.toma.simulation;

import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.Random;
import java.util.Set;
import java.util.TreeSet;

/**
 * A randomly drawn cluster: zones, racks, storage nodes with roles, and disks of mixed sizes. No
 * rack holds half the cluster's members or more (the manager counts as one member), so a rack
 * loss leaves a majority that keeps serving, as keep-majority split-brain resolution would.
 */
public record ClusterShape(List<NodeSpec> nodes, List<DiskSpec> disks) {

  public static final long TIB = 1L << 40;

  public record NodeSpec(String id, String zone, String rack, String address, boolean disk, boolean controller) {}

  public record DiskSpec(String id, String node, int index, long sizeBytes) {}

  public ClusterShape {
    nodes = List.copyOf(nodes);
    disks = List.copyOf(disks);
  }

  public static ClusterShape random(Random random, Options options) {
    int nodeCount = options.minNodes() + random.nextInt(options.maxNodes() - options.minNodes() + 1);
    int zones = 1 + random.nextInt(2);
    int racks = Math.max(2, Math.min(4, 2 + random.nextInt(3)));
    // Keep every rack under half of the members (nodes + the manager).
    int maxPerRack = nodeCount / 2;
    while ((nodeCount + racks - 1) / racks > maxPerRack) {
      racks++;
    }
    List<NodeSpec> nodes = new ArrayList<>();
    List<DiskSpec> disks = new ArrayList<>();
    long[] sizes = {TIB, 2 * TIB, 4 * TIB};
    for (int i = 0; i < nodeCount; i++) {
      int rack = i % racks;
      int zone = rack % zones;
      String id = "n" + (i + 1);
      boolean disk;
      boolean controller;
      if (options.disaggregated()) {
        // Half disk nodes, half controller nodes (at least 3 disk nodes, at least 2 controllers).
        disk = i % 2 == 0 || i == nodeCount - 1 && nodeCount < 6;
        controller = !disk;
      } else {
        int role = random.nextInt(4);
        disk = role != 3;
        controller = role != 2;
      }
      nodes.add(new NodeSpec(id, "z" + zone, "r" + rack, "10.0." + rack + "." + (i + 1), disk, controller));
      if (disk) {
        int diskCount = 1 + random.nextInt(2);
        for (int d = 0; d < diskCount; d++) {
          disks.add(new DiskSpec(id + "-d" + d, id, d, sizes[random.nextInt(sizes.length)]));
        }
      }
    }
    ensureRoles(nodes, disks, sizes, random);
    return new ClusterShape(nodes, disks);
  }

  /** At least three disk nodes and two controller nodes, so every layout has somewhere to go. */
  private static void ensureRoles(List<NodeSpec> nodes, List<DiskSpec> disks, long[] sizes, Random random) {
    for (int i = 0; i < nodes.size() && nodes.stream().filter(NodeSpec::disk).count() < 3; i++) {
      NodeSpec n = nodes.get(i);
      if (!n.disk()) {
        nodes.set(i, new NodeSpec(n.id(), n.zone(), n.rack(), n.address(), true, n.controller()));
        disks.add(new DiskSpec(n.id() + "-d0", n.id(), 0, sizes[random.nextInt(sizes.length)]));
      }
    }
    for (int i = nodes.size() - 1; i >= 0 && nodes.stream().filter(NodeSpec::controller).count() < 2; i--) {
      NodeSpec n = nodes.get(i);
      if (!n.controller()) {
        nodes.set(i, new NodeSpec(n.id(), n.zone(), n.rack(), n.address(), n.disk(), true));
      }
    }
  }

  public NodeSpec node(String id) {
    return nodes.stream().filter(n -> n.id().equals(id)).findFirst()
        .orElseThrow(() -> new IllegalArgumentException("no node " + id));
  }

  public Optional<DiskSpec> disk(String id) {
    return disks.stream().filter(d -> d.id().equals(id)).findFirst();
  }

  public Set<String> racks() {
    Set<String> racks = new TreeSet<>();
    nodes.forEach(n -> racks.add(n.zone() + "/" + n.rack()));
    return racks;
  }

  public List<String> nodesInRack(String zoneRack) {
    return nodes.stream().filter(n -> (n.zone() + "/" + n.rack()).equals(zoneRack)).map(NodeSpec::id).toList();
  }

  public long count(java.util.function.Predicate<NodeSpec> p) {
    return nodes.stream().filter(p).count();
  }

  public String describe() {
    return nodes.size() + " nodes in " + racks().size() + " racks ("
        + count(NodeSpec::disk) + " disk, " + count(NodeSpec::controller) + " controller), "
        + disks.size() + " disks";
  }
}
