package io.toma.kernel.sim;

import io.toma.kernel.DesiredState.AnaState;
import io.toma.kernel.DesiredState.FabricConnection;
import java.util.List;
import java.util.Optional;
import java.util.OptionalInt;

/**
 * The fabric of a process whose simulated nodes are not the whole cluster: a connection to an
 * address of a node in this process goes through {@link SimFabric}, any other address through the
 * remote transport (another process's targets).
 */
final class RoutedFabric implements FabricEndpoint {
  private final SimFabric local;
  private final FabricEndpoint remote;

  RoutedFabric(SimFabric local, FabricEndpoint remote) {
    this.local = local;
    this.remote = remote;
  }

  private FabricEndpoint to(FabricConnection c) {
    return local.servesAddress(c.address()) ? local : remote;
  }

  @Override
  public Optional<String> connectRefusal(String fromNode, FabricConnection c) {
    return to(c).connectRefusal(fromNode, c);
  }

  @Override
  public boolean associationUp(String fromNode, FabricConnection c) {
    return to(c).associationUp(fromNode, c);
  }

  @Override
  public OptionalInt allocateCntlid(String fromNode, FabricConnection c) {
    return to(c).allocateCntlid(fromNode, c);
  }

  @Override
  public List<RemoteNamespace> namespaces(String fromNode, FabricConnection c) {
    return to(c).namespaces(fromNode, c);
  }

  @Override
  public Optional<AnaState> anaState(String fromNode, FabricConnection c, int nsid) {
    return to(c).anaState(fromNode, c, nsid);
  }

  @Override
  public Optional<Long> namespaceSize(String fromNode, FabricConnection c, int nsid) {
    return to(c).namespaceSize(fromNode, c, nsid);
  }

  @Override
  public IoResult read(String fromNode, FabricConnection c, int nsid, long offset, int length) {
    return to(c).read(fromNode, c, nsid, offset, length);
  }

  @Override
  public IoResult write(String fromNode, FabricConnection c, int nsid, long offset, byte[] data) {
    return to(c).write(fromNode, c, nsid, offset, data);
  }

  @Override
  public long nextData(String fromNode, FabricConnection c, int nsid, long from) {
    return to(c).nextData(fromNode, c, nsid, from);
  }

  @Override
  public void disconnected(String fromNode, FabricConnection c) {
    to(c).disconnected(fromNode, c);
  }
}
