package io.toma.cli;

import com.fasterxml.jackson.databind.JsonNode;
import io.toma.api.Sizes;
import java.io.PrintWriter;

/** How a volume reads for people: health in words, rebuild progress as a percentage. */
final class VolumeRendering {

  private VolumeRendering() {}

  static String health(JsonNode v) {
    String state = v.path("state").asText();
    String reason = v.path("reason").isTextual() ? ": " + v.path("reason").asText() : "";
    return switch (state) {
      case "Online" -> "healthy";
      case "Degraded" -> "degraded" + reason;
      case "Rebuilding" -> "rebuilding " + rebuildPercent(v) + "%" + reason;
      case "Provisioning" -> "provisioning";
      case "Deleting" -> "deleting";
      default -> state.toLowerCase() + reason;
    };
  }

  /** The slowest rebuilding replica's progress: the volume is fully redundant only when it is done. */
  static int rebuildPercent(JsonNode v) {
    int min = 100;
    for (JsonNode leg : v.path("legs")) {
      for (JsonNode r : leg.path("replicas")) {
        if ("rebuilding".equals(r.path("state").asText())) {
          min = Math.min(min, r.path("syncPercent").asInt());
        }
      }
    }
    return min;
  }

  static String layout(JsonNode v) {
    JsonNode l = v.path("layout");
    return l.path("legs").asInt() + "x" + l.path("replicas").asInt() + ", " + l.path("standbyControllers").asInt() + " standby";
  }

  static void detail(PrintWriter out, JsonNode v) {
    out.println("id:          " + v.path("id").asText());
    out.println("name:        " + v.path("name").asText());
    out.println("size:        " + Sizes.human(v.path("sizeBytes").asLong()) + " (" + v.path("sizeBytes").asLong() + " bytes)");
    out.println("health:      " + health(v));
    out.println("layout:      " + layout(v) + ", replicas apart by " + v.path("failureDomain").asText("node"));
    out.println("epoch:       " + v.path("epoch").asLong());
    out.println("hosts:       " + (v.path("attachments").size() == 0 ? "none" : joined(v.path("attachments"))));
    Table legs = new Table("LEG", "DISK", "NODE", "RACK", "ZONE", "REPLICA", "SYNC");
    for (JsonNode leg : v.path("legs")) {
      for (JsonNode r : leg.path("replicas")) {
        legs.row(leg.path("index").asInt(), r.path("disk").asText(), r.path("node").asText(), r.path("rack").asText(),
            r.path("zone").asText(), r.path("state").asText(), r.path("syncPercent").asInt() + "%");
      }
    }
    out.println();
    legs.print(out);
    Table controllers = new Table("CONTROLLER", "ROLE", "ANA STATE");
    for (JsonNode c : v.path("controllers")) {
      controllers.row(c.path("node").asText(), c.path("role").asText(), c.path("anaState").asText());
    }
    out.println();
    controllers.print(out);
  }

  private static String joined(JsonNode array) {
    StringBuilder s = new StringBuilder();
    for (JsonNode n : array) {
      s.append(s.length() == 0 ? "" : ", ").append(n.asText());
    }
    return s.toString();
  }
}
