package io.toma.kernel.sim;

import io.toma.kernel.DesiredState.AnaState;
import io.toma.kernel.DesiredState.FabricConnection;
import java.util.List;
import java.util.Optional;
import java.util.OptionalInt;

/**
 * What a node's NVMe-oF host side sees of the fabric: the targets behind its connections. Public
 * so a transport outside this package ({@code kernel.sim.wire}) can carry connections to targets
 * in another process; {@link SimFabric} serves the targets of this process.
 */
public interface FabricEndpoint {

  record RemoteNamespace(int nsid, String uuid) {}

  /** Empty when a connect from {@code fromNode} would be accepted now, else the errno text. */
  Optional<String> connectRefusal(String fromNode, FabricConnection connection);

  /** An established association survives (node, links both ways, port listening, subsystem linked). */
  boolean associationUp(String fromNode, FabricConnection connection);

  /** A controller id from the target subsystem's range, unused by any live controller. */
  OptionalInt allocateCntlid(String fromNode, FabricConnection connection);

  List<RemoteNamespace> namespaces(String fromNode, FabricConnection connection);

  Optional<AnaState> anaState(String fromNode, FabricConnection connection, int nsid);

  Optional<Long> namespaceSize(String fromNode, FabricConnection connection, int nsid);

  IoResult read(String fromNode, FabricConnection connection, int nsid, long offset, int length);

  IoResult write(String fromNode, FabricConnection connection, int nsid, long offset, byte[] data);

  long nextData(String fromNode, FabricConnection connection, int nsid, long from);

  /** The host deleted its controller (disconnect or ctrl-loss): a transport may drop the association. */
  default void disconnected(String fromNode, FabricConnection connection) {}
}
