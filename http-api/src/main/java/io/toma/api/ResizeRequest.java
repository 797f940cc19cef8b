package io.toma.api;

/** {@code POST /api/v1/volumes/{id}/resize}: the new size, parsed to bytes. */
public record ResizeRequest(long sizeBytes) {}
