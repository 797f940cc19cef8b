package io.toma.api;

import io.prometheus.metrics.model.registry.PrometheusRegistry;
import java.util.Optional;
import java.util.concurrent.CompletionStage;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.http.javadsl.Http;
import org.apache.pekko.http.javadsl.ServerBinding;
import org.apache.pekko.http.javadsl.server.AllDirectives;
import org.apache.pekko.http.javadsl.server.ExceptionHandler;
import org.apache.pekko.http.javadsl.server.Rejection;
import org.apache.pekko.http.javadsl.server.RejectionHandler;
import org.apache.pekko.http.javadsl.server.Route;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The entry points the server calls: build the API's route, then bind it (concatenated with the
 * health route). The route answers every path in {@link ApiRoutes#ENDPOINTS} and every unknown
 * path (404 problem), except {@code /api/v1/health}, which it rejects so a concatenated health
 * route answers it whatever the order.
 */
public final class ApiServer extends AllDirectives {

  private static final Logger log = LoggerFactory.getLogger(ApiServer.class);

  private ApiServer() {}

  /** The API with its own metrics registry (request metrics only). */
  public static Route routes(ClusterOperations ops, ApiEvents events, Optional<DemoFaults> demo, ApiAuth auth) {
    return routes(ops, events, demo, auth, new PrometheusRegistry());
  }

  /**
   * The API, recording request metrics in {@code registry} and exposing all of it on
   * {@code /metrics} (pass the registry JVM and cluster metrics are registered in).
   */
  public static Route routes(
      ClusterOperations ops, ApiEvents events, Optional<DemoFaults> demo, ApiAuth auth, PrometheusRegistry registry) {
    if (!auth.enabled()) {
      log.warn("HTTP API authentication is OFF: any caller that reaches this port may read and change volumes");
    } else if (auth.tokens().isEmpty()) {
      log.warn("HTTP API authentication is on but no token is configured: every call except health, metrics and openapi answers 401");
    }
    ApiRouter router = new ApiRouter(ops, events, demo, auth, new ApiMetrics(registry));
    ApiServer d = new ApiServer();
    return d.handleExceptions(exceptionHandler(), () -> d.handleRejections(rejectionHandler(), () ->
        d.extractMaterializer(mat -> d.extractRequest(request -> router.handle(request, mat)
            .<Route>map(d::completeWithFuture)
            .orElseGet(d::reject)))));
  }

  /** Binds a route on host:port; port 0 picks a free one (see {@link ServerBinding#localAddress()}). */
  public static CompletionStage<ServerBinding> bind(ActorSystem<?> system, String host, int port, Route route) {
    return Http.get(system).newServerAt(host, port).bind(route)
        .whenComplete((b, ex) -> {
          if (ex == null) {
            log.info("HTTP API listening on {}", b.localAddress());
          }
        });
  }

  /** Last line of defence: an exception escaping a handler is a bug, answered as a 500 problem. */
  static ExceptionHandler exceptionHandler() {
    ApiServer d = new ApiServer();
    return ExceptionHandler.newBuilder()
        .matchAny(ex -> {
          log.error("request failed with an exception; answering 500 (this is a bug)", ex);
          return d.complete(ApiRouter.internalError());
        })
        .build();
  }

  /**
   * Rejections only come from inside this route when a directive refuses a request before the
   * router sees it; they are answered as 400 problems rather than Pekko's plain-text defaults.
   * The empty rejection (the health path) is left to the routes after this one.
   */
  static RejectionHandler rejectionHandler() {
    ApiServer d = new ApiServer();
    return RejectionHandler.newBuilder()
        .handleAll(Rejection.class, rejections -> d.complete(ApiRouter.problem(
            Problem.of(400, "bad-request", "Bad request", "the request was refused: " + rejections))))
        .build();
  }
}
