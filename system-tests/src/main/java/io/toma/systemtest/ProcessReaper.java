package io.toma.systemtest;

import java.util.HashSet;
import java.util.List;
import java.util.Set;

/**
 * Kills every node process still running when the test JVM exits, however it exits (a failed
 * {@code @AfterAll}, Ctrl-C on Maven): a leftover node would hold its ports and disturb the next run.
 */
public final class ProcessReaper {
  private static final Set<Process> LIVE = new HashSet<>();

  static {
    Runtime.getRuntime().addShutdownHook(new Thread(ProcessReaper::killAll, "toma-system-test-reaper"));
  }

  private ProcessReaper() {}

  static synchronized void track(Process process) {
    LIVE.add(process);
  }

  static synchronized void forget(Process process) {
    LIVE.remove(process);
  }

  private static void killAll() {
    List<Process> processes;
    synchronized (ProcessReaper.class) {
      processes = List.copyOf(LIVE);
    }
    processes.forEach(Process::destroyForcibly);
  }
}
