package io.toma.server;

import java.util.concurrent.CompletableFuture;

/** The demo's members as the fault switches see them: crash one, start it again. */
interface DemoMembers {
  boolean isRunning(String nodeId);

  /** Terminates the member without leaving the cluster; completes once it is gone. */
  CompletableFuture<Void> crash(String nodeId);

  /** Starts a crashed member again: a new incarnation on the same address. */
  void restart(String nodeId);
}
