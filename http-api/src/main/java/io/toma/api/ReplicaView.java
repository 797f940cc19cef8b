package io.toma.api;

/**
 * One replica (logical disk) of a leg, with where it lives. {@code state} is one of
 * {@code in-sync}, {@code rebuilding}, {@code failed}; {@code syncPercent} is 0..100.
 */
public record ReplicaView(String disk, String node, String rack, String zone, String state, int syncPercent) {}
