/**
 * The simulated kernel: an in-memory twin of what Toma does to a node's kernel, carrying data,
 * behind the same {@link io.toma.kernel.Kernel} interface as the Linux backend. Deterministic:
 * no wall clock, no threads of its own, no randomness, no hash-ordered iteration.
 *
 * <h2>Building a cluster</h2>
 * <pre>{@code
 * SimCluster cluster = SimCluster.create();                 // raid resync at 64 MiB/s of sim time
 * SimNode d1 = cluster.addNode("d1", "10.0.0.1");           // id + fabric address
 * SimDisk disk = d1.addDisk("disk0", 4L << 40);             // /dev/nullb0, 4 TiB, no memory until written
 * Kernel kernel = d1.kernel();                              // apply(KernelOp), read(), blockDevices()
 * SimHost host = cluster.addHost("h1", "10.0.2.1", "nqn.2026-11.io.toma:host-1");
 * host.connect(volumeNqn, "10.0.1.1", 4430);                // one call per controller (multipath)
 * IoResult r = host.write(volumeNqn, 0, bytes);             // Ok | Error | Retry (held, ask again)
 * }</pre>
 *
 * <h2>Time and faults</h2>
 * Time moves only through {@link io.toma.kernel.sim.SimCluster#advance(java.time.Duration)}:
 * resyncs progress, reconnect attempts and ctrl-loss timeouts fire at their exact instants.
 * Faults: {@code killDisk}, {@code slowDisk}, {@code cutLink} / {@code cutLinkOneWay},
 * {@code healLink}, {@code crash}, {@code restart} on {@link io.toma.kernel.sim.SimCluster}.
 *
 * <h2>Choices where the kernel leaves room</h2>
 * <ul>
 *   <li>I/O is synchronous. What the kernel would hold (a reconnecting path without fast fail, a
 *       suspended dm device, a multipath head during an ANA change) answers {@code Retry}; the
 *       caller repeats it after advancing the clock. Suspend with or without noflush is the same,
 *       since nothing is ever in flight.</li>
 *   <li>Keep-alive is the link state: a cut is noticed at once (no keep-alive delay).</li>
 *   <li>dm-raid state lives in superblocks on the metadata devices, so reloads, restarts and a
 *       second controller assemble the set as the kernel does. {@code rebuild <slot>} on a member
 *       whose superblock is current and in sync does not resync it again.</li>
 *   <li>A namespace is created enabled in one step; an operation that fails changes nothing.</li>
 *   <li>Everything is guarded by one lock per cluster, so agents may call kernels from several
 *       threads; determinism then depends on the order of calls, which is the caller's.</li>
 * </ul>
 */
package io.toma.kernel.sim;
