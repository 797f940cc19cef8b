package io.toma.api;

import com.fasterxml.jackson.databind.JsonNode;
import java.io.IOException;
import java.io.InputStream;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.TimeoutException;
import java.util.function.Function;
import org.apache.pekko.http.javadsl.model.ContentType;
import org.apache.pekko.http.javadsl.model.ContentTypes;
import org.apache.pekko.http.javadsl.model.HttpCharsets;
import org.apache.pekko.http.javadsl.model.HttpEntities;
import org.apache.pekko.http.javadsl.model.HttpRequest;
import org.apache.pekko.http.javadsl.model.HttpResponse;
import org.apache.pekko.http.javadsl.model.MediaTypes;
import org.apache.pekko.http.javadsl.model.headers.RawHeader;
import org.apache.pekko.stream.Materializer;
import org.apache.pekko.util.ByteString;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Dispatches one request along {@link ApiRoutes#ENDPOINTS}: path (404), method (405), auth (401,
 * 403), body (415, 413, 400), then the handler. Every answer it gives, errors included, is a
 * complete response; it never lets a request fall through to Pekko's default (non-JSON) replies.
 */
final class ApiRouter {

  private static final Logger log = LoggerFactory.getLogger(ApiRouter.class);

  static final ContentType PROBLEM_JSON =
      ContentTypes.create(MediaTypes.applicationWithFixedCharset("problem+json", HttpCharsets.UTF_8));
  static final ContentType YAML = ContentTypes.create(MediaTypes.applicationWithOpenCharset("yaml"), HttpCharsets.UTF_8);
  static final long MAX_BODY_BYTES = 64 * 1024;
  static final int MAX_PAGE = 1000;
  static final int DEFAULT_PAGE = 100;
  private static final Duration SSE_KEEP_ALIVE = Duration.ofSeconds(15);

  /** A matched request, handed to one handler. */
  record Call(HttpRequest request, Map<String, String> params, Map<String, String> query, Optional<JsonNode> body) {}

  /** Outcome of dispatch before the handler runs: either a response already, or the endpoint to run. */
  private record Dispatch(Optional<Endpoint> endpoint, Optional<HttpResponse> response) {}

  private final ClusterOperations ops;
  private final ApiEvents events;
  private final Optional<DemoFaults> demo;
  private final ApiAuth auth;
  private final ApiMetrics metrics;
  private final Map<String, Function<Call, CompletionStage<HttpResponse>>> handlers = new HashMap<>();
  private final byte[] openApi;

  ApiRouter(ClusterOperations ops, ApiEvents events, Optional<DemoFaults> demo, ApiAuth auth, ApiMetrics metrics) {
    this.ops = ops;
    this.events = events;
    this.demo = demo;
    this.auth = auth;
    this.metrics = metrics;
    this.openApi = loadOpenApi();
    handlers.put("openapi", c -> done(HttpResponse.create().withEntity(YAML, openApi)));
    handlers.put("metrics", c -> done(HttpResponse.create()
        .withEntity(ContentTypes.parse(metrics.contentType()), metrics.scrape())));
    handlers.put("listVolumes", this::listVolumes);
    handlers.put("createVolume", this::createVolume);
    handlers.put("getVolume", c -> withId(c, "id", "volume", id -> json(ops.getVolume(id), 200)));
    handlers.put("deleteVolume", c -> withId(c, "id", "volume", id -> json(ops.deleteVolume(id), 202)));
    handlers.put("attachHost", c -> withId(c, "id", "volume",
        id -> parsed(RequestParser.attach(c.body().orElseThrow()), req -> json(ops.attach(id, req), 200))));
    handlers.put("detachHost", c -> withId(c, "id", "volume", id -> parsed(
        Identifiers.hostNqn("hostNqn", c.params().get("hostNqn")), nqn -> json(ops.detach(id, nqn), 200))));
    handlers.put("resizeVolume", c -> withId(c, "id", "volume",
        id -> parsed(RequestParser.resize(c.body().orElseThrow()), req -> json(ops.resize(id, req), 200))));
    handlers.put("listNodes", c -> json(ops.listNodes(), 200));
    handlers.put("cordonNode", c -> withId(c, "id", "node", id -> json(ops.cordon(id), 200)));
    handlers.put("uncordonNode", c -> withId(c, "id", "node", id -> json(ops.uncordon(id), 200)));
    handlers.put("drainNode", c -> withId(c, "id", "node", id -> json(ops.drain(id), 202)));
    handlers.put("nodePlan", c -> withId(c, "id", "node", id -> ops.nodePlan(id).thenApply(r -> r instanceof ApiResult.Ok<String> ok
        ? HttpResponse.create().withEntity(ContentTypes.TEXT_PLAIN_UTF8, ok.value())
        : problem(Problem.from(r)))));
    handlers.put("cluster", c -> json(ops.cluster(), 200));
    handlers.put("events", this::events);
    handlers.put("injectFault", c -> parsed(RequestParser.fault(c.body().orElseThrow()),
        req -> text(demo.orElseThrow().inject(req))));
    handlers.put("heal", c -> text(demo.orElseThrow().heal()));
    for (Endpoint e : ApiRoutes.ENDPOINTS) {
      if (e.kind() != Endpoint.Kind.EXTERNAL && !handlers.containsKey(e.operationId())) {
        throw new IllegalStateException("no handler for " + e);
      }
    }
  }

  /**
   * The response for a request, or empty when the path belongs to a route served elsewhere (the
   * health route), so the caller rejects and the next route in a concatenation answers.
   */
  Optional<CompletionStage<HttpResponse>> handle(HttpRequest request, Materializer mat) {
    long start = System.nanoTime();
    List<String> path = pathOf(request);
    String method = request.method().value();
    List<Endpoint> onPath = new ArrayList<>();
    Map<String, String> params = Map.of();
    for (Endpoint e : ApiRoutes.ENDPOINTS) {
      if (e.demoOnly() && demo.isEmpty()) {
        continue;
      }
      Optional<Map<String, String>> m = e.match(path);
      if (m.isPresent()) {
        onPath.add(e);
        params = m.get();
      }
    }
    if (onPath.isEmpty()) {
      return Optional.of(measured("unmatched", method, start, done(problem(Problem.of(404, "not-found", "Not found",
          "no route " + Sizes.abbreviate(request.getUri().path()) + "; the API lives under " + ApiRoutes.PREFIX + " (see " + ApiRoutes.PREFIX + "/openapi.yaml)")))));
    }
    Optional<Endpoint> endpoint = onPath.stream().filter(e -> e.method().equals(method)).findFirst();
    if (endpoint.isEmpty()) {
      String allowed = String.join(", ", onPath.stream().map(Endpoint::method).toList());
      return Optional.of(measured(onPath.get(0).template(), method, start, done(problem(Problem.of(405, "method-not-allowed",
          "Method not allowed", method + " is not allowed on " + onPath.get(0).template() + "; use " + allowed))
          .addHeader(RawHeader.create("Allow", allowed)))));
    }
    Endpoint e = endpoint.get();
    if (e.kind() == Endpoint.Kind.EXTERNAL) {
      return Optional.empty();
    }
    Optional<HttpResponse> denied = authorize(request, e);
    if (denied.isPresent()) {
      return Optional.of(measured(e.template(), method, start, done(denied.get())));
    }
    Map<String, String> finalParams = params;
    CompletionStage<HttpResponse> response = query(request, e).map(r -> done(r)).orElseGet(() -> {
      if (!e.takesJsonBody()) {
        // Bodies sent to calls that take none are ignored, but drained so the connection stays usable.
        request.discardEntityBytes(mat);
        return run(e, new Call(request, finalParams, queryOf(request), Optional.empty()));
      }
      return readJson(request, mat).thenCompose(body -> body instanceof BodyRead.Parsed parsed
          ? run(e, new Call(request, finalParams, queryOf(request), Optional.of(parsed.json())))
          : done(((BodyRead.Refused) body).response()));
    });
    return Optional.of(measured(e.template(), method, start, response));
  }

  private CompletionStage<HttpResponse> run(Endpoint e, Call call) {
    CompletionStage<HttpResponse> stage;
    try {
      stage = handlers.get(e.operationId()).apply(call);
    } catch (RuntimeException ex) {
      stage = CompletableFuture.failedFuture(ex);
    }
    return stage.exceptionally(ex -> portFailure(e, ex));
  }

  private HttpResponse portFailure(Endpoint e, Throwable ex) {
    Throwable cause = ex instanceof CompletionException && ex.getCause() != null ? ex.getCause() : ex;
    if (cause instanceof TimeoutException || cause.getClass().getSimpleName().contains("Timeout")) {
      log.warn("{} {} timed out in the cluster; answering 503", e.method(), e.template());
      return problem(Problem.of(503, "unavailable", "Service unavailable",
          "the cluster did not answer in time; retry shortly"));
    }
    log.error("{} {} failed; answering 500 (this is a bug)", e.method(), e.template(), cause);
    return internalError();
  }

  static HttpResponse internalError() {
    return problem(Problem.of(500, "internal", "Internal error",
        "the server failed to answer this request; the error is in its log"));
  }

  private Optional<HttpResponse> authorize(HttpRequest request, Endpoint e) {
    if (!auth.enabled() || e.access() == Endpoint.Access.OPEN) {
      return Optional.empty();
    }
    Optional<String> header = request.getHeader("Authorization").map(h -> h.value().strip());
    Optional<String> token = header.filter(h -> h.regionMatches(true, 0, "Bearer ", 0, 7)).map(h -> h.substring(7).strip());
    if (header.isEmpty() && takesQueryToken(e)) {
      token = queryToken(request);
    }
    Optional<ApiAuth.Access> access = token.filter(t -> !t.isEmpty()).flatMap(auth::accessOf);
    if (access.isEmpty()) {
      String detail = header.isPresent() || token.isPresent() ? "the bearer token is not valid"
          : "this call needs a bearer token: send 'Authorization: Bearer <token>'"
              + (takesQueryToken(e) ? " (or ?" + QUERY_TOKEN + "=<token>, for browsers' EventSource)" : "");
      return Optional.of(problem(Problem.of(401, "unauthorized", "Unauthorized", detail))
          .addHeader(RawHeader.create("WWW-Authenticate", "Bearer realm=\"toma\"")));
    }
    if (e.access() == Endpoint.Access.WRITE && access.get() != ApiAuth.Access.READ_WRITE) {
      return Optional.of(problem(Problem.of(403, "forbidden", "Forbidden",
          "this token is read-only; " + e.method() + " " + e.template() + " needs a read-write token")));
    }
    return Optional.empty();
  }

  /**
   * A browser's {@code EventSource} cannot send headers, so the event stream also takes the token
   * as a query parameter. Only there: a token in a URL ends up in proxies' access logs, so a
   * read-only token is the one to hand to a browser.
   */
  static final String QUERY_TOKEN = "access_token";

  private static boolean takesQueryToken(Endpoint e) {
    return e.operationId().equals("events");
  }

  private static Optional<String> queryToken(HttpRequest request) {
    try {
      return Optional.ofNullable(queryOf(request).get(QUERY_TOKEN)).map(String::strip);
    } catch (RuntimeException malformed) {
      return Optional.empty();
    }
  }

  /** Query parameters are refused by name unless the endpoint takes them (only the volume list does). */
  private Optional<HttpResponse> query(HttpRequest request, Endpoint e) {
    Map<String, String> q;
    try {
      q = queryOf(request);
    } catch (RuntimeException ex) {
      return Optional.of(problem(Problem.invalid("", "the query string is malformed")));
    }
    List<String> allowed = e.operationId().equals("listVolumes") ? List.of("limit", "offset")
        : takesQueryToken(e) ? List.of(QUERY_TOKEN) : List.of();
    for (String name : q.keySet()) {
      if (!allowed.contains(name)) {
        return Optional.of(problem(Problem.invalid(name, "unknown query parameter '" + Sizes.abbreviate(name) + "'"
            + (allowed.isEmpty() ? "; this call takes none" : "; this call takes " + String.join(", ", allowed)))));
      }
    }
    return Optional.empty();
  }

  private static Map<String, String> queryOf(HttpRequest request) {
    return request.getUri().query().toMap();
  }

  /** A JSON body read from a request, or the response refusing it. */
  private sealed interface BodyRead {
    record Parsed(JsonNode json) implements BodyRead {}

    record Refused(HttpResponse response) implements BodyRead {}
  }

  private CompletionStage<BodyRead> readJson(HttpRequest request, Materializer mat) {
    var mediaType = request.entity().getContentType().mediaType();
    boolean empty = request.entity().isKnownEmpty();
    if (!empty && !(mediaType.mainType().equals("application") && mediaType.subType().equals("json"))) {
      request.discardEntityBytes(mat);
      return done(new BodyRead.Refused(problem(Problem.of(415, "unsupported-media-type", "Unsupported media type",
          "this call takes application/json, not " + mediaType))));
    }
    if (request.entity().getContentLengthOption().orElse(0L) > MAX_BODY_BYTES) {
      request.discardEntityBytes(mat);
      return done(new BodyRead.Refused(tooLarge()));
    }
    return request.entity().toStrict(5_000, MAX_BODY_BYTES, mat)
        .<BodyRead>thenApply(strict -> {
          ApiResult<JsonNode> json = Json.parse(strict.getData().toArray());
          return json instanceof ApiResult.Ok<JsonNode> ok ? new BodyRead.Parsed(ok.value()) : new BodyRead.Refused(problem(Problem.from(json)));
        })
        .exceptionally(ex -> new BodyRead.Refused(unreadable(ex)));
  }

  /** Why a body could not be read: too large (413), or the client was too slow or went away (400). */
  private static HttpResponse unreadable(Throwable ex) {
    for (Throwable t = ex; t != null; t = t.getCause()) {
      boolean tooLarge = t instanceof org.apache.pekko.http.scaladsl.model.EntityStreamSizeException
          || (t instanceof org.apache.pekko.http.scaladsl.model.EntityStreamException
              && String.valueOf(t.getMessage()).contains("too large"));
      if (tooLarge) {
        return tooLarge();
      }
    }
    return problem(Problem.invalid("", "the request body could not be read: it did not arrive whole within 5 seconds"));
  }

  private static HttpResponse tooLarge() {
    return problem(Problem.of(413, "payload-too-large", "Payload too large",
        "the request body is larger than " + MAX_BODY_BYTES + " bytes"));
  }

  private CompletionStage<HttpResponse> listVolumes(Call c) {
    ApiResult<Integer> offset = intParam(c.query(), "offset", 0, 0, Integer.MAX_VALUE);
    ApiResult<Integer> limit = intParam(c.query(), "limit", DEFAULT_PAGE, 1, MAX_PAGE);
    return parsed(offset, o -> parsed(limit, l -> json(ops.listVolumes(o, l), 200)));
  }

  private static ApiResult<Integer> intParam(Map<String, String> q, String name, int dflt, int min, int max) {
    String text = q.get(name);
    if (text == null) {
      return ApiResult.ok(dflt);
    }
    if (!text.matches("[0-9]{1,10}") || Long.parseLong(text) < min || Long.parseLong(text) > max) {
      return ApiResult.invalid(name, name + " must be a whole number from " + min + " to " + max + ", got '" + Sizes.abbreviate(text) + "'");
    }
    return ApiResult.ok(Integer.parseInt(text));
  }

  private CompletionStage<HttpResponse> createVolume(Call c) {
    return parsed(RequestParser.createVolume(c.body().orElseThrow()), req -> ops.createVolume(req).thenApply(r -> {
      if (r instanceof ApiResult.Ok<CreatedVolume> ok) {
        HttpResponse response = jsonResponse(ok.value().created() ? 201 : 200, ok.value().volume());
        return ok.value().created()
            ? response.addHeader(RawHeader.create("Location", ApiRoutes.PREFIX + "/volumes/" + ok.value().volume().id()))
            : response;
      }
      return problem(Problem.from(r));
    }));
  }

  private CompletionStage<HttpResponse> events(Call c) {
    var source = events.subscribe()
        .map(ev -> ByteString.fromString("event: " + ev.type().wireName() + "\ndata: "
            + new String(Json.write(ev), java.nio.charset.StandardCharsets.UTF_8) + "\n\n"))
        // An SSE comment line keeps idle connections (and proxies) from timing out.
        .keepAlive(SSE_KEEP_ALIVE, () -> ByteString.fromString(":\n\n"));
    return done(HttpResponse.create()
        .addHeader(RawHeader.create("Cache-Control", "no-cache"))
        .withEntity(HttpEntities.createChunked(ContentTypes.create(MediaTypes.TEXT_EVENT_STREAM), source)));
  }

  private CompletionStage<HttpResponse> withId(Call c, String param, String what,
      Function<String, CompletionStage<HttpResponse>> then) {
    String id = c.params().get(param);
    if (Identifiers.id(what, id) instanceof ApiResult.Ok<String>) {
      return then.apply(id);
    }
    // An id that cannot exist is not looked up: the entities would be created for nothing.
    return done(problem(Problem.of(404, "not-found", "Not found", "no " + what + " '" + Sizes.abbreviate(id) + "'")));
  }

  private static <T> CompletionStage<HttpResponse> parsed(ApiResult<T> result, Function<T, CompletionStage<HttpResponse>> then) {
    if (result instanceof ApiResult.Ok<T> ok) {
      return then.apply(ok.value());
    }
    return done(problem(Problem.from(result)));
  }

  private static <T> CompletionStage<HttpResponse> json(CompletionStage<ApiResult<T>> stage, int status) {
    return stage.thenApply(r -> r instanceof ApiResult.Ok<T> ok ? jsonResponse(status, ok.value()) : problem(Problem.from(r)));
  }

  private static CompletionStage<HttpResponse> text(CompletionStage<ApiResult<String>> stage) {
    return stage.thenApply(r -> r instanceof ApiResult.Ok<String> ok
        ? jsonResponse(200, Map.of("message", ok.value()))
        : problem(Problem.from(r)));
  }

  static HttpResponse jsonResponse(int status, Object body) {
    return HttpResponse.create().withStatus(status).withEntity(ContentTypes.APPLICATION_JSON, Json.write(body));
  }

  static HttpResponse problem(Problem p) {
    return HttpResponse.create().withStatus(p.status()).withEntity(PROBLEM_JSON, Json.write(p));
  }

  private static <T> CompletionStage<T> done(T value) {
    return CompletableFuture.completedFuture(value);
  }

  private CompletionStage<HttpResponse> measured(String route, String method, long start, CompletionStage<HttpResponse> response) {
    return response.whenComplete((r, ex) -> metrics.record(route, method, r == null ? 500 : r.status().intValue(), System.nanoTime() - start));
  }

  private static List<String> pathOf(HttpRequest request) {
    List<String> segments = new ArrayList<>();
    request.getUri().pathSegments().forEach(segments::add);
    if (!segments.isEmpty() && segments.get(segments.size() - 1).isEmpty()) {
      segments.remove(segments.size() - 1);
    }
    return segments;
  }

  private static byte[] loadOpenApi() {
    try (InputStream in = ApiRouter.class.getResourceAsStream("/openapi.yaml")) {
      if (in == null) {
        throw new IllegalStateException("openapi.yaml is missing from the classpath");
      }
      return in.readAllBytes();
    } catch (IOException e) {
      throw new IllegalStateException("cannot read openapi.yaml", e);
    }
  }
}
