package io.toma.api;

import java.util.Optional;

/**
 * {@code POST /api/v1/demo/faults}: break {@code target} (a disk, node or rack id); for a link,
 * {@code target} and {@code peer} are the two nodes whose link is cut (peer is required then and
 * refused otherwise).
 */
public record FaultRequest(FaultKind kind, String target, Optional<String> peer) {}
