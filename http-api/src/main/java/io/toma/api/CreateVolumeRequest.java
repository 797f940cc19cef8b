package io.toma.api;

/**
 * {@code POST /api/v1/volumes}, validated: the JSON {@code size} ("100GiB" or bytes) is already
 * {@code sizeBytes}, a missing layout is {@link Layout#DEFAULT}, a missing failure domain is node.
 * Two creates are the same spec when these records are equal.
 */
public record CreateVolumeRequest(String name, long sizeBytes, Layout layout, FailureDomain failureDomain) {}
