package io.toma.agent.watch;

import io.toma.agent.AgentProtocol.DiskLost;
import io.toma.agent.AgentProtocol.Report;
import io.toma.kernel.Kernel.BlockDeviceInfo;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;

/**
 * Classifies the node's periodic block-device reads: a registered disk that is gone (or absent)
 * in {@code confirmReads} reads in a row is reported lost, once. A single absent read is doubtful
 * (a rescan, a slow sysfs) and reports nothing; a disk seen again is watched afresh.
 */
public record DiskWatcher(String nodeId, int confirmReads, Map<String, Integer> absentReads, Set<String> reported) {

  public DiskWatcher {
    absentReads = Map.copyOf(absentReads);
    reported = Set.copyOf(reported);
  }

  public static DiskWatcher start(String nodeId, int confirmReads) {
    return new DiskWatcher(nodeId, Math.max(1, confirmReads), Map.of(), Set.of());
  }

  /** @param disks registered disks, id to device path; @param read what the kernel said now */
  public WatchStep<DiskWatcher> observe(Map<String, String> disks, List<BlockDeviceInfo> read) {
    Map<String, Boolean> present = new TreeMap<>();
    for (BlockDeviceInfo info : read) {
      present.put(info.path(), info.present());
    }
    Map<String, Integer> absent = new TreeMap<>();
    Set<String> done = new TreeSet<>(reported);
    List<Report> reports = new ArrayList<>();
    for (Map.Entry<String, String> disk : new TreeMap<>(disks).entrySet()) {
      String id = disk.getKey();
      if (present.getOrDefault(disk.getValue(), false)) {
        done.remove(id);
        continue;
      }
      int count = absentReads.getOrDefault(id, 0) + 1;
      absent.put(id, count);
      if (count >= confirmReads && done.add(id)) {
        reports.add(new DiskLost(nodeId, id, "block device " + disk.getValue() + " is gone (absent in "
            + count + " reads in a row)"));
      }
    }
    return new WatchStep<>(new DiskWatcher(nodeId, confirmReads, absent, done), reports);
  }
}
