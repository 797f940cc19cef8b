package io.toma.topology;

import io.toma.persistence.CborSerializable;

/**
 * One controller of a volume: its node, role, the NVMe-oF port (service id) the volume is
 * exported on there, its ANA group and its own controller-id range (two targets exporting the
 * same subsystem must never hand out the same cntlid, kernel-recipes "Two active controllers").
 */
public record ControllerPlacement(
    String nodeId,
    ControllerRole role,
    String fabricAddress,
    String hostNqn,
    int serviceId,
    int anaGroup,
    int cntlidMin,
    int cntlidMax)
    implements CborSerializable {}
