package io.toma.simulation;

/**
 * The entry point of one seeded run: {@code SimulationRun.run(seed, options)} draws a cluster,
 * volumes, hosts and a fault schedule from the seed, runs them on one thread with one manual
 * clock, checks the invariants after every step and reports. The same seed and options give the
 * same report.
 */
public final class SimulationRun {
  private SimulationRun() {}

  public static RunReport run(long seed, Options options) {
    return new World(seed, options).run();
  }
}
