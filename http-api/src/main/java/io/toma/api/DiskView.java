package io.toma.api;

/** A physical disk of a node; {@code state} is {@code ok}, {@code failed} or {@code missing}. */
public record DiskView(String id, long sizeBytes, long freeBytes, String state) {}
