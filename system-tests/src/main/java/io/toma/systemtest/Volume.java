package io.toma.systemtest;

import com.fasterxml.jackson.annotation.JsonIgnoreProperties;
import java.util.List;
import java.util.Optional;
import java.util.stream.Collectors;

/** A volume as {@code GET /api/v1/volumes/{id}} shows it, reduced to what the scenarios check. */
@JsonIgnoreProperties(ignoreUnknown = true)
public record Volume(String id, String name, String state, long epoch, List<Leg> legs, List<Controller> controllers) {
  public Volume {
    legs = List.copyOf(legs);
    controllers = List.copyOf(controllers);
  }

  @JsonIgnoreProperties(ignoreUnknown = true)
  public record Leg(int index, List<Replica> replicas) {
    public Leg {
      replicas = List.copyOf(replicas);
    }
  }

  @JsonIgnoreProperties(ignoreUnknown = true)
  public record Replica(String disk, String node, String state) {}

  @JsonIgnoreProperties(ignoreUnknown = true)
  public record Controller(String node, String role, String anaState) {}

  public List<Controller> optimizedControllers() {
    return controllers.stream().filter(c -> "optimized".equals(c.anaState())).toList();
  }

  public Optional<String> activeController() {
    return controllers.stream().filter(c -> "active".equals(c.role())).map(Controller::node).findFirst();
  }

  public boolean hasReplicaOn(String node) {
    return legs.stream().flatMap(l -> l.replicas().stream()).anyMatch(r -> r.node().equals(node));
  }

  public String summary() {
    return id + " " + state + " epoch " + epoch + " controllers ["
        + controllers.stream().map(c -> c.node() + " " + c.role() + "/" + c.anaState()).collect(Collectors.joining(", "))
        + "] replicas ["
        + legs.stream()
            .flatMap(l -> l.replicas().stream().map(r -> l.index() + ":" + r.node() + "/" + r.disk() + " " + r.state()))
            .collect(Collectors.joining(", "))
        + "]";
  }
}
