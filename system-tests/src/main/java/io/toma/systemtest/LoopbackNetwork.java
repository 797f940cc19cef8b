package io.toma.systemtest;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.util.ArrayList;
import java.util.List;

/**
 * Every node on 127.0.0.1 with ports the kernel reported free when the network was made. Free
 * ports rather than Toma's defaults (2551, 8080) so a demo or another test running on this machine
 * does not collide with the test cluster. A restarted node keeps its ports, as a real one would.
 * The simulated NVMe-oF fabric needs an address per node: 127.0.1.N (all of 127/8 is loopback).
 */
public final class LoopbackNetwork implements NodeNetwork {
  private static final String LOOPBACK = "127.0.0.1";
  private final List<Endpoint> endpoints;

  private LoopbackNetwork(List<Endpoint> endpoints) {
    this.endpoints = List.copyOf(endpoints);
  }

  public static LoopbackNetwork withNodes(int nodes) {
    List<Integer> ports = freePorts(2 * nodes + 1);
    int fabricPort = ports.get(2 * nodes);
    List<Endpoint> endpoints = new ArrayList<>();
    for (int i = 0; i < nodes; i++) {
      // Each node's NVMe-oF targets on its own loopback address (127.0.1.N), one port for all.
      endpoints.add(new Endpoint(LOOPBACK, ports.get(2 * i), ports.get(2 * i + 1), "127.0.1." + (i + 1), fabricPort));
    }
    return new LoopbackNetwork(endpoints);
  }

  @Override
  public Endpoint endpoint(int node) {
    return endpoints.get(node - 1);
  }

  @Override
  public List<String> launchPrefix(int node) {
    return List.of();
  }

  /** Holds every socket open until all are chosen, so no port is handed out twice. */
  private static List<Integer> freePorts(int count) {
    List<ServerSocket> sockets = new ArrayList<>();
    try {
      for (int i = 0; i < count; i++) {
        sockets.add(new ServerSocket(0, 1, InetAddress.getByName(LOOPBACK)));
      }
      return sockets.stream().map(ServerSocket::getLocalPort).toList();
    } catch (IOException e) {
      throw new UncheckedIOException("cannot find free loopback ports", e);
    } finally {
      for (ServerSocket socket : sockets) {
        try {
          socket.close();
        } catch (IOException ignored) {
          // Closing a listening socket we never used cannot lose anything.
        }
      }
    }
  }
}
