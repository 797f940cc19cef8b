package io.toma.api;

/** {@code POST /api/v1/volumes/{id}/attachments}: the host NQN allowed to connect, validated. */
public record AttachRequest(String hostNqn) {}
