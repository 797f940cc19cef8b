package io.toma.placement;

/** One leg member to place: leg index and replica index within the leg. */
public record MemberSlot(int leg, int replica) {}
