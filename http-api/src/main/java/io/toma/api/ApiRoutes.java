package io.toma.api;

import static io.toma.api.Endpoint.Access.OPEN;
import static io.toma.api.Endpoint.Access.READ;
import static io.toma.api.Endpoint.Access.WRITE;
import static io.toma.api.Endpoint.Kind.DEMO;
import static io.toma.api.Endpoint.Kind.DEMO_JSON_BODY;
import static io.toma.api.Endpoint.Kind.EXTERNAL;
import static io.toma.api.Endpoint.Kind.JSON_BODY;
import static io.toma.api.Endpoint.Kind.PLAIN;

import java.util.List;

/**
 * The route table, in one place: the router serves exactly these, and a test checks the OpenAPI
 * document lists exactly these.
 */
public final class ApiRoutes {

  public static final String PREFIX = "/api/v1";

  public static final List<Endpoint> ENDPOINTS = List.of(
      new Endpoint("health", "GET", PREFIX + "/health", OPEN, EXTERNAL),
      new Endpoint("openapi", "GET", PREFIX + "/openapi.yaml", OPEN, PLAIN),
      new Endpoint("metrics", "GET", "/metrics", OPEN, PLAIN),
      new Endpoint("listVolumes", "GET", PREFIX + "/volumes", READ, PLAIN),
      new Endpoint("createVolume", "POST", PREFIX + "/volumes", WRITE, JSON_BODY),
      new Endpoint("getVolume", "GET", PREFIX + "/volumes/{id}", READ, PLAIN),
      new Endpoint("deleteVolume", "DELETE", PREFIX + "/volumes/{id}", WRITE, PLAIN),
      new Endpoint("attachHost", "POST", PREFIX + "/volumes/{id}/attachments", WRITE, JSON_BODY),
      new Endpoint("detachHost", "DELETE", PREFIX + "/volumes/{id}/attachments/{hostNqn}", WRITE, PLAIN),
      new Endpoint("resizeVolume", "POST", PREFIX + "/volumes/{id}/resize", WRITE, JSON_BODY),
      new Endpoint("listNodes", "GET", PREFIX + "/nodes", READ, PLAIN),
      new Endpoint("cordonNode", "POST", PREFIX + "/nodes/{id}/cordon", WRITE, PLAIN),
      new Endpoint("uncordonNode", "POST", PREFIX + "/nodes/{id}/uncordon", WRITE, PLAIN),
      new Endpoint("drainNode", "POST", PREFIX + "/nodes/{id}/drain", WRITE, PLAIN),
      new Endpoint("nodePlan", "GET", PREFIX + "/nodes/{id}/plan", READ, PLAIN),
      new Endpoint("cluster", "GET", PREFIX + "/cluster", READ, PLAIN),
      new Endpoint("events", "GET", PREFIX + "/events", READ, PLAIN),
      new Endpoint("injectFault", "POST", PREFIX + "/demo/faults", WRITE, DEMO_JSON_BODY),
      new Endpoint("heal", "POST", PREFIX + "/demo/heal", WRITE, DEMO));

  private ApiRoutes() {}
}
