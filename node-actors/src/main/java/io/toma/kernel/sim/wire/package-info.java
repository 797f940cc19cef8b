/**
 * The simulated NVMe-oF fabric between processes: each process holds a {@link
 * io.toma.kernel.sim.SimCluster} of its own nodes; a connection to an address outside it runs over
 * TCP ({@link io.toma.kernel.sim.wire.WireFabric} on the host side, {@link
 * io.toma.kernel.sim.wire.WireTargetServer} serving {@link io.toma.kernel.sim.FabricExports} on the
 * target side, framed by {@link io.toma.kernel.sim.wire.WireFrame}). Loss semantics follow the
 * in-process fabric (the association is the link state; ctrl-loss and fast_io_fail as the host side
 * models them), with one stricter rule: a host NQN revoked at the target loses its existing
 * association at its next command. Not deterministic (real sockets, wall-clock keep-alives): for the
 * multi-process tier and benchmarks, never for the seeded simulation.
 */
package io.toma.kernel.sim.wire;
