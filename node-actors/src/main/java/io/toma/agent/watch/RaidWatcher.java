package io.toma.agent.watch;

import io.toma.agent.AgentProtocol.RaidMemberStatus;
import io.toma.agent.AgentProtocol.Report;
import io.toma.kernel.DmRaidStatus;
import io.toma.kernel.KernelState.DmDeviceState;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;

/**
 * Classifies dm-raid status lines: a change of member health characters or of the sync action
 * (A/a/D, resync/recover/idle), or a new table (a reload), is reported once it has been read twice
 * in a row; one odd read reports nothing. Sync progress alone is not news. A reload counts because
 * a replacement that resyncs between two reads shows the same "AA idle" as before it: without the
 * report the manager would wait for its sync for ever.
 */
public record RaidWatcher(String nodeId, Map<String, String> reportedState, Map<String, String> candidate) {

  public RaidWatcher {
    reportedState = Map.copyOf(reportedState);
    candidate = Map.copyOf(candidate);
  }

  public static RaidWatcher start(String nodeId) {
    return new RaidWatcher(nodeId, Map.of(), Map.of());
  }

  /**
   * Forget what was reported for these devices: their next reads are reported again. For a
   * manager that asks again (it restarted and lost what it was told).
   */
  public RaidWatcher forget(java.util.function.Predicate<String> device) {
    Map<String, String> reported = new TreeMap<>(reportedState);
    reported.keySet().removeIf(device);
    return new RaidWatcher(nodeId, reported, candidate);
  }

  /** @param volumeOfDevice which volume each Toma dm device belongs to */
  public WatchStep<RaidWatcher> observe(Map<String, DmDeviceState> devices, Map<String, String> volumeOfDevice) {
    Map<String, String> reported = new TreeMap<>();
    Map<String, String> seen = new TreeMap<>();
    List<Report> reports = new ArrayList<>();
    for (DmDeviceState dev : new TreeMap<>(devices).values()) {
      String volume = volumeOfDevice.get(dev.name());
      Optional<DmRaidStatus> status = DmRaidStatus.tryParse(dev.status());
      if (volume == null || status.isEmpty()) {
        continue;
      }
      DmRaidStatus s = status.get();
      String state = s.health() + " " + s.syncAction() + " " + dev.table();
      String before = reportedState.get(dev.name());
      if (state.equals(before)) {
        reported.put(dev.name(), before);
        continue;
      }
      if (state.equals(candidate.get(dev.name()))) {
        reported.put(dev.name(), state);
        reports.add(new RaidMemberStatus(nodeId, volume, dev.name(), s.health(), s.syncedSectors(),
            s.totalSectors(), s.syncAction()));
      } else {
        seen.put(dev.name(), state);
        if (before != null) {
          reported.put(dev.name(), before);
        }
      }
    }
    return new WatchStep<>(new RaidWatcher(nodeId, reported, seen), reports);
  }
}
