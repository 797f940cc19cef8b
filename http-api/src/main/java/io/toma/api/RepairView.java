package io.toma.api;

/** One repair under way: which volume, what kind (rebuild, failover, ...), its current step, progress 0..100. */
public record RepairView(String volumeId, String kind, String step, int progressPercent) {}
