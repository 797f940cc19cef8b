package io.toma.systemtest;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * The volume and node calls of {@code /api/v1} the scenarios need. Auth is off on the test nodes
 * (toma.api.auth-enabled defaults to false), so no token is sent.
 */
public final class VolumeClient {
  private static final ObjectMapper JSON = new ObjectMapper();
  private static final Duration TIMEOUT = Duration.ofSeconds(10);
  private final HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(2)).build();

  /**
   * Why the scenarios that need volumes cannot run against this server, if they cannot: the
   * server does not route the volume API yet, or no node reports a disk to place a volume on.
   */
  public Optional<String> volumesUnsupportedBecause(Endpoint node) {
    HttpResponse<String> nodes = send(node, HttpRequest.newBuilder(uri(node, "/nodes")).GET());
    if (nodes.statusCode() == 404) {
      return Optional.of("the real server does not serve the volume API yet (GET /api/v1/nodes answers 404)");
    }
    if (nodes.statusCode() != 200) {
      throw new AssertionError("GET /api/v1/nodes answered " + nodes.statusCode() + ": " + nodes.body());
    }
    JsonNode body = read(nodes.body());
    JsonNode items = body.has("items") ? body.get("items") : body;
    boolean anyDisk = false;
    for (JsonNode n : items) {
      anyDisk |= n.path("disks").size() > 0;
    }
    return anyDisk
        ? Optional.empty()
        : Optional.of("no node of the real server reports a disk yet: " + nodes.body());
  }

  /** Why the volume API cannot be used, if the server does not route it (404). */
  public Optional<String> volumeApiMissingBecause(Endpoint node) {
    HttpResponse<String> nodes = send(node, HttpRequest.newBuilder(uri(node, "/nodes")).GET());
    return nodes.statusCode() == 404
        ? Optional.of("the real server does not serve the volume API yet (GET /api/v1/nodes answers 404)")
        : Optional.empty();
  }

  /**
   * As {@link #volumesUnsupportedBecause(Endpoint)}, asking again for up to {@code patience}
   * while the API is served but no disk is reported yet: a node's agent registers its disks a
   * moment after the node is up.
   */
  public Optional<String> volumesUnsupportedBecause(Endpoint node, java.time.Duration patience) {
    long deadline = System.nanoTime() + patience.toNanos();
    while (true) {
      Optional<String> why = volumesUnsupportedBecause(node);
      if (why.isEmpty() || why.get().contains("404") || System.nanoTime() > deadline) {
        return why;
      }
      try {
        Thread.sleep(500);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        return why;
      }
    }
  }

  /**
   * Creates the volume once placement can: waits until every one of {@code nodeIds} lists its
   * disks, and asks again while the answer is 409 (the capacity view of a node that just joined
   * reaches the managers a moment after its disks are listed).
   */
  public Volume createWhenPlaceable(Endpoint node, List<String> nodeIds, String name, String size, int replicas,
      java.time.Duration patience) {
    Poll.until("every node " + nodeIds + " listing its disks", patience, () -> {
      List<String> bare = nodeIds.stream().filter(id -> disksOf(node, id).isEmpty()).toList();
      return bare.isEmpty() ? Poll.Seen.done(nodeIds, "all list disks") : Poll.Seen.notYet("no disks yet on " + bare);
    });
    return Poll.until("volume " + name + " placed", patience, () -> {
      HttpResponse<String> response = postVolume(node, name, size, replicas);
      if (response.statusCode() == 409) {
        return Poll.Seen.notYet("409: " + response.body());
      }
      if (response.statusCode() != 201 && response.statusCode() != 200) {
        throw new AssertionError("creating volume " + name + " answered " + response.statusCode() + ": " + response.body());
      }
      Volume v = parse(response.body());
      return Poll.Seen.done(v, v.summary());
    });
  }

  /** Creates the volume (201, or 200 for the same request again) and returns it. */
  public Volume create(Endpoint node, String name, String size, int replicas) {
    HttpResponse<String> response = postVolume(node, name, size, replicas);
    if (response.statusCode() != 201 && response.statusCode() != 200) {
      throw new AssertionError("creating volume " + name + " answered " + response.statusCode() + ": " + response.body());
    }
    return parse(response.body());
  }

  /**
   * The volume, or empty while the API answers 503: the volume's entity lived on a node that was
   * just lost and its shard has not moved yet (the API still answers, with a problem document).
   */
  public Optional<Volume> tryGet(Endpoint node, String id) {
    HttpResponse<String> response = send(node, HttpRequest.newBuilder(uri(node, "/volumes/" + id)).GET());
    if (response.statusCode() == 503) {
      return Optional.empty();
    }
    if (response.statusCode() != 200) {
      throw new AssertionError("GET volume " + id + " answered " + response.statusCode() + ": " + response.body());
    }
    return Optional.of(parse(response.body()));
  }

  /** Lets a host NQN connect to the volume's controllers (POST .../attachments). */
  public Volume attach(Endpoint node, String id, String hostNqn) {
    HttpResponse<String> response =
        send(
            node,
            HttpRequest.newBuilder(uri(node, "/volumes/" + id + "/attachments"))
                .header("Content-Type", "application/json")
                .POST(HttpRequest.BodyPublishers.ofString("{\"hostNqn\":\"" + hostNqn + "\"}")));
    if (response.statusCode() != 200 && response.statusCode() != 201) {
      throw new AssertionError("attaching " + hostNqn + " to " + id + " answered " + response.statusCode() + ": "
          + response.body());
    }
    return parse(response.body());
  }

  private HttpResponse<String> postVolume(Endpoint node, String name, String size, int replicas) {
    String body =
        "{\"name\":\"" + name + "\",\"size\":\"" + size + "\",\"layout\":{\"legs\":1,\"replicas\":" + replicas
            + ",\"standbyControllers\":1},\"failureDomain\":\"node\"}";
    return send(
        node,
        HttpRequest.newBuilder(uri(node, "/volumes"))
            .header("Content-Type", "application/json")
            .POST(HttpRequest.BodyPublishers.ofString(body)));
  }

  /** The volume as this node's API shows it; fails the test if the API does not answer. */
  public Volume get(Endpoint node, String id) {
    HttpResponse<String> response = send(node, HttpRequest.newBuilder(uri(node, "/volumes/" + id)).GET());
    if (response.statusCode() != 200) {
      throw new AssertionError("GET volume " + id + " answered " + response.statusCode() + ": " + response.body());
    }
    return parse(response.body());
  }

  /** Disk ids the node's API lists for one node. */
  public List<String> disksOf(Endpoint node, String nodeId) {
    HttpResponse<String> response = send(node, HttpRequest.newBuilder(uri(node, "/nodes")).GET());
    JsonNode body = read(response.body());
    JsonNode items = body.has("items") ? body.get("items") : body;
    List<String> disks = new ArrayList<>();
    for (JsonNode n : items) {
      if (nodeId.equals(n.path("id").asText())) {
        n.path("disks").forEach(d -> disks.add(d.path("id").asText() + " " + d.path("state").asText()));
      }
    }
    return List.copyOf(disks);
  }

  private HttpResponse<String> send(Endpoint node, HttpRequest.Builder request) {
    try {
      return http.send(request.timeout(TIMEOUT).build(), HttpResponse.BodyHandlers.ofString());
    } catch (IOException e) {
      throw new AssertionError("the API of " + node.host() + ":" + node.httpPort() + " did not answer: " + e, e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new AssertionError("interrupted", e);
    }
  }

  private static URI uri(Endpoint node, String path) {
    return URI.create("http://" + node.host() + ":" + node.httpPort() + "/api/v1" + path);
  }

  private static Volume parse(String body) {
    try {
      return JSON.readValue(body, Volume.class);
    } catch (IOException e) {
      throw new AssertionError("not a volume: " + body, e);
    }
  }

  private static JsonNode read(String body) {
    try {
      return JSON.readTree(body);
    } catch (IOException e) {
      throw new AssertionError("not JSON: " + body, e);
    }
  }
}
