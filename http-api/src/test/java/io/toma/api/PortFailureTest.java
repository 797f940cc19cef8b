package io.toma.api;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.lang.reflect.Proxy;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeoutException;
import org.junit.jupiter.api.Test;

/** When the cluster itself fails, the API says so as a problem: 503 for a timeout, 500 for a bug. */
class PortFailureTest {

  static ClusterOperations failingWith(Throwable failure) {
    return (ClusterOperations) Proxy.newProxyInstance(ClusterOperations.class.getClassLoader(),
        new Class<?>[] {ClusterOperations.class}, (proxy, method, args) -> CompletableFuture.failedFuture(failure));
  }

  static ClusterOperations throwing(RuntimeException failure) {
    return (ClusterOperations) Proxy.newProxyInstance(ClusterOperations.class.getClassLoader(),
        new Class<?>[] {ClusterOperations.class}, (proxy, method, args) -> {
          throw failure;
        });
  }

  @Test
  void a_cluster_that_times_out_is_a_503_problem() {
    try (ApiTestServer s = new ApiTestServer(ApiServer.routes(failingWith(new TimeoutException("ask timed out")),
        ApiEvents.none(), Optional.empty(), ApiAuth.disabled()))) {
      var r = s.get("/api/v1/volumes/vol-1");
      assertEquals(503, r.status());
      assertTrue(r.contentType().startsWith("application/problem+json"));
      assertEquals("urn:toma:problem:unavailable", r.json().get("type").asText());
    }
  }

  @Test
  void a_cluster_that_fails_or_throws_is_a_500_problem_not_a_dropped_connection() {
    try (ApiTestServer s = new ApiTestServer(ApiServer.routes(failingWith(new IllegalStateException("boom")),
        ApiEvents.none(), Optional.empty(), ApiAuth.disabled()))) {
      var r = s.get("/api/v1/cluster");
      assertEquals(500, r.status());
      assertEquals("urn:toma:problem:internal", r.json().get("type").asText());
    }
    try (ApiTestServer s = new ApiTestServer(ApiServer.routes(throwing(new IllegalStateException("boom")),
        ApiEvents.none(), Optional.empty(), ApiAuth.disabled()))) {
      var r = s.post("/api/v1/volumes", "{\"name\":\"x\",\"size\":\"1GiB\"}");
      assertEquals(500, r.status());
      assertTrue(r.contentType().startsWith("application/problem+json"));
    }
  }
}
