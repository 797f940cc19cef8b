package io.toma.api.health;

import static org.apache.pekko.http.javadsl.server.Directives.completeOK;
import static org.apache.pekko.http.javadsl.server.Directives.get;
import static org.apache.pekko.http.javadsl.server.Directives.path;
import static org.apache.pekko.http.javadsl.server.Directives.pathPrefix;

import com.fasterxml.jackson.databind.ObjectMapper;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.cluster.typed.Cluster;
import org.apache.pekko.http.javadsl.marshallers.jackson.Jackson;
import org.apache.pekko.http.javadsl.server.Route;

/**
 * {@code GET /api/v1/health}: cluster membership as this node sees it from gossip. Unauthenticated
 * on purpose, so load balancers and operators can probe it without a token.
 */
public final class HealthRoute {
  private HealthRoute() {}

  public static Route create(ActorSystem<?> system) {
    Cluster cluster = Cluster.get(system);
    ObjectMapper json = new ObjectMapper();
    return pathPrefix(
        "api",
        () ->
            pathPrefix(
                "v1",
                () ->
                    path(
                        "health",
                        () ->
                            get(
                                () ->
                                    completeOK(
                                        ClusterHealth.of(cluster.selfMember(), cluster.state()),
                                        Jackson.marshaller(json))))));
  }
}
