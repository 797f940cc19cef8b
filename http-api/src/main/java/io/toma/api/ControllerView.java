package io.toma.api;

/**
 * A controller of a volume: {@code role} is {@code active} or {@code standby}; {@code anaState} the
 * ANA state it exports ({@code optimized}, {@code non-optimized}, {@code inaccessible}, ...).
 */
public record ControllerView(String node, String role, String anaState) {}
