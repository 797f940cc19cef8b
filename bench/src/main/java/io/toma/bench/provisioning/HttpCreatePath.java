package io.toma.bench.provisioning;

import io.toma.topology.VolumeSpec;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.concurrent.CompletionStage;

/** Creates through {@code POST /api/v1/volumes} on loopback, as an operator's client would. */
final class HttpCreatePath implements ProvisioningBench.CreatePath {
  private final HttpClient client = HttpClient.newBuilder()
      .version(HttpClient.Version.HTTP_1_1).connectTimeout(Duration.ofSeconds(10)).build();
  private final URI uri;

  HttpCreatePath(int port) {
    this.uri = URI.create("http://127.0.0.1:" + port + "/api/v1/volumes");
  }

  @Override
  public String describe() {
    return "POST " + uri + " (Pekko HTTP, TopologyClusterOperations over TopologyService; java.net.http client,"
        + " one connection per concurrent caller)";
  }

  @Override
  public CompletionStage<java.util.Optional<String>> create(VolumeSpec spec) {
    String body = "{\"name\":\"" + spec.name() + "\",\"size\":\"" + spec.sizeBytes() / VolumeSpec.MIB + "MiB\",\"layout\":{\"legs\":"
        + spec.layout().legs() + ",\"replicas\":" + spec.layout().replicas() + ",\"standbyControllers\":"
        + spec.layout().standbyControllers() + "},\"failureDomain\":\"" + spec.layout().level().label() + "\"}";
    HttpRequest request = HttpRequest.newBuilder(uri).timeout(Duration.ofSeconds(60))
        .header("Content-Type", "application/json").POST(HttpRequest.BodyPublishers.ofString(body)).build();
    return client.sendAsync(request, HttpResponse.BodyHandlers.ofString())
        .thenApply(r -> r.statusCode() == 201 || r.statusCode() == 200
            ? java.util.Optional.empty() : java.util.Optional.of("HTTP " + r.statusCode() + " " + r.body()));
  }
}
