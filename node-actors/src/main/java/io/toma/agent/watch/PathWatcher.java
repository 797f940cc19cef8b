package io.toma.agent.watch;

import io.toma.agent.AgentProtocol.PathLost;
import io.toma.agent.AgentProtocol.PathRestored;
import io.toma.agent.AgentProtocol.Report;
import io.toma.kernel.KernelState.ControllerState;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;

/**
 * Classifies the host-side NVMe-oF controllers of the connections this node should hold. A path
 * that is not {@code live} (stuck {@code connecting} while keep-alive fails, or already deleted
 * after ctrl-loss) for longer than the grace window is reported lost, once; when it is
 * {@code live} again it is reported restored. A flapping link inside the grace window reports
 * nothing. Connections no longer wanted are forgotten silently.
 */
public record PathWatcher(String nodeId, Duration grace, Map<String, Long> notLiveSince, Set<String> lost) {

  public PathWatcher {
    notLiveSince = Map.copyOf(notLiveSince);
    lost = Set.copyOf(lost);
  }

  /** A path: subsystem NQN at address:service. */
  public record Path(String subsystemNqn, String address, int serviceId) {
    String key() {
      return subsystemNqn + "@" + address + ":" + serviceId;
    }

    String peer() {
      return address + ":" + serviceId;
    }
  }

  public static PathWatcher start(String nodeId, Duration grace) {
    return new PathWatcher(nodeId, grace, Map.of(), Set.of());
  }

  public WatchStep<PathWatcher> observe(Set<Path> wanted, List<ControllerState> controllers, long nowMillis) {
    Map<String, String> stateByKey = new TreeMap<>();
    for (ControllerState c : controllers) {
      String key = new Path(c.subsystemNqn(), c.address(), c.serviceId()).key();
      // with several controllers on one path, one live one is enough
      if (!"live".equals(stateByKey.get(key))) {
        stateByKey.put(key, c.state());
      }
    }
    Map<String, Long> since = new TreeMap<>();
    Set<String> nowLost = new TreeSet<>();
    List<Report> reports = new ArrayList<>();
    for (Path p : wanted) {
      String key = p.key();
      String state = stateByKey.getOrDefault(key, "absent");
      if ("live".equals(state)) {
        if (lost.contains(key)) {
          reports.add(new PathRestored(nodeId, p.subsystemNqn(), p.peer()));
        }
        continue;
      }
      long start = notLiveSince.getOrDefault(key, nowMillis);
      since.put(key, start);
      if (lost.contains(key)) {
        nowLost.add(key);
      } else if (nowMillis - start >= grace.toMillis() && notLiveSince.containsKey(key)) {
        nowLost.add(key);
        reports.add(new PathLost(nodeId, p.subsystemNqn(), p.peer(), "controller " + state + " for "
            + (nowMillis - start) + " ms (grace " + grace.toMillis() + " ms)"));
      }
    }
    return new WatchStep<>(new PathWatcher(nodeId, grace, since, nowLost), reports);
  }
}
