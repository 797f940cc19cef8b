package io.toma.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import io.toma.api.ApiAuth;
import io.toma.api.ApiEvent;
import io.toma.api.ApiTestServer;
import io.toma.api.InMemoryCluster;
import io.toma.api.Json;
import io.toma.api.VolumeState;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;

/** The CLI run against a real test server: what an operator sees, and the exit codes scripts rely on. */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class TomaCliTest {

  static final String WRITER = "w-token";
  static final String READER = "r-token";
  static final String NQN = "nqn.2014-08.org.nvmexpress:uuid:6f1c2a52-8c1e-4b8a-9f0e-1c2d3e4f5a6b";

  InMemoryCluster cluster;
  ApiTestServer server;

  record Run(int exit, String out, String err) {
    JsonNode json() throws Exception {
      return Json.MAPPER.readTree(out);
    }
  }

  @BeforeAll
  void start() {
    cluster = new InMemoryCluster();
    cluster.events.add(new ApiEvent(ApiEvent.Type.FAULT_DETECTED, "node-b", "disk node-b-nvme0 lost", 0));
    cluster.events.add(new ApiEvent(ApiEvent.Type.REPAIR_STEP, "vol-1", "rebuilding leg 0 on node-c", 1000));
    server = ApiTestServer.start(cluster, false, ApiAuth.of(List.of(
        new ApiAuth.Token(WRITER, ApiAuth.Access.READ_WRITE), new ApiAuth.Token(READER, ApiAuth.Access.READ_ONLY))));
  }

  @AfterAll
  void stop() {
    server.close();
  }

  Run toma(String... args) {
    return tomaWith(Map.of("TOMA_SERVER", server.base(), "TOMA_TOKEN", WRITER), args);
  }

  Run tomaWith(Map<String, String> env, String... args) {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    ByteArrayOutputStream err = new ByteArrayOutputStream();
    int exit = TomaCli.run(args, new PrintStream(out, true, StandardCharsets.UTF_8), new PrintStream(err, true, StandardCharsets.UTF_8), env);
    return new Run(exit, out.toString(StandardCharsets.UTF_8), err.toString(StandardCharsets.UTF_8));
  }

  String createVolume(String name) throws Exception {
    Run r = toma("volume", "create", name, "--size", "10GiB", "-o", "json");
    assertEquals(0, r.exit(), r.err());
    return r.json().get("id").asText();
  }

  @Test
  void volume_create_says_created_then_already_exists_on_a_retry() {
    Run first = toma("volume", "create", "cli-db", "--size", "100GiB", "--legs", "2", "--replicas", "3", "--standby", "1");
    assertEquals(0, first.exit(), first.err());
    assertTrue(first.out().startsWith("created volume cli-db"), first.out());
    assertTrue(first.out().contains("2x3, 1 standby"), first.out());
    Run again = toma("volume", "create", "cli-db", "--size", "100GiB", "--legs", "2", "--replicas", "3", "--standby", "1");
    assertEquals(0, again.exit());
    assertTrue(again.out().startsWith("volume already exists: cli-db"), again.out());
    Run clash = toma("volume", "create", "cli-db", "--size", "200GiB");
    assertEquals(1, clash.exit());
    assertTrue(clash.err().startsWith("error: volume 'cli-db' exists with another spec"), clash.err());
  }

  @Test
  void volume_list_shows_a_table_with_health_in_words_and_json_for_scripts() throws Exception {
    String id = createVolume("cli-list");
    Run table = toma("volume", "list");
    assertEquals(0, table.exit());
    String[] lines = table.out().split("\n");
    assertTrue(lines[0].matches("ID\\s+NAME\\s+SIZE\\s+HEALTH\\s+LAYOUT\\s+HOSTS"), lines[0]);
    assertTrue(table.out().lines().anyMatch(l -> l.startsWith(id + " ") && l.contains("cli-list") && l.contains("10 GiB")
        && l.contains("healthy")), table.out());
    Run json = toma("volume", "list", "-o", "json");
    assertTrue(json.json().get("items").isArray());
    assertEquals(cluster.volumeCount(), json.json().get("total").asInt());
  }

  @Test
  void a_rebuilding_volume_shows_its_progress_as_a_percentage() throws Exception {
    String id = createVolume("cli-rebuild");
    cluster.setState(id, VolumeState.Rebuilding, Optional.of("replacing a lost disk"));
    Run show = toma("volume", "show", id);
    assertEquals(0, show.exit(), show.err());
    assertTrue(show.out().contains("health:      rebuilding 42%: replacing a lost disk"), show.out());
    assertTrue(show.out().lines().anyMatch(l -> l.contains("node-b") && l.contains("rebuilding") && l.endsWith("42%")), show.out());
    cluster.setState(id, VolumeState.Degraded, Optional.of("leg 0 has 1 of 2 replicas"));
    Run list = toma("volume", "list");
    assertTrue(list.out().contains("degraded: leg 0 has 1 of 2 replicas"), list.out());
  }

  @Test
  void attach_detach_resize_and_delete_report_what_they_did() throws Exception {
    String id = createVolume("cli-ops");
    Run attach = toma("volume", "attach", id, NQN);
    assertEquals(0, attach.exit(), attach.err());
    assertTrue(attach.out().contains("attached " + NQN));
    Run detach = toma("volume", "detach", id, NQN);
    assertEquals(0, detach.exit(), detach.err());
    Run resize = toma("volume", "resize", id, "--size", "20GiB");
    assertEquals(0, resize.exit(), resize.err());
    assertTrue(resize.out().contains("resized cli-ops to 20 GiB"), resize.out());
    Run delete = toma("volume", "delete", id);
    assertEquals(0, delete.exit());
    assertTrue(delete.out().startsWith("deleting volume cli-ops"));
  }

  @Test
  void server_refusals_print_the_server_detail_and_exit_1() throws Exception {
    String id = createVolume("cli-refused");
    Run shrink = toma("volume", "resize", id, "--size", "1GiB");
    assertEquals(1, shrink.exit());
    assertTrue(shrink.err().contains("shrinking is refused") && shrink.err().contains("(field size)"), shrink.err());
    Run missing = toma("volume", "show", "vol-999");
    assertEquals(1, missing.exit());
    assertEquals("error: no volume 'vol-999'", missing.err().strip());
    Run badNqn = toma("volume", "attach", id, "host-1");
    assertEquals(1, badNqn.exit());
    assertTrue(badNqn.err().contains("not an NVMe qualified name"), badNqn.err());
  }

  @Test
  void bad_command_line_input_names_the_option_and_exits_2() {
    int before = cluster.volumeCount();
    Run size = toma("volume", "create", "x", "--size", "10GB");
    assertEquals(2, size.exit());
    assertTrue(size.err().contains("--size"), size.err());
    Run replicas = toma("volume", "create", "x", "--size", "1GiB", "--replicas", "two");
    assertEquals(2, replicas.exit());
    assertTrue(replicas.err().contains("--replicas"), replicas.err());
    Run output = toma("node", "list", "-o", "yaml");
    assertEquals(2, output.exit());
    assertTrue(output.err().contains("--output"), output.err());
    Run missing = toma("volume", "resize", "vol-1");
    assertEquals(2, missing.exit());
    assertTrue(missing.err().contains("--size"), missing.err());
    assertEquals(before, cluster.volumeCount());
  }

  @Test
  void node_list_cordon_and_plan() {
    Run list = toma("node", "list");
    assertEquals(0, list.exit());
    assertTrue(list.out().lines().anyMatch(l -> l.startsWith("node-a ") && l.contains("rack-1") && l.contains("up")
        && l.contains("schedulable") && l.contains("3 TiB")), list.out());
    Run cordon = toma("node", "cordon", "node-c");
    assertEquals(0, cordon.exit());
    assertTrue(toma("node", "list").out().lines().anyMatch(l -> l.startsWith("node-c ") && l.contains("cordoned")));
    assertEquals(0, toma("node", "uncordon", "node-c").exit());
    Run drain = toma("node", "drain", "node-c");
    assertTrue(drain.out().startsWith("draining node-c"));
    Run plan = toma("node", "plan", "node-a");
    assertEquals(0, plan.exit());
    assertTrue(plan.out().contains("dmsetup create"), plan.out());
    Run unknown = toma("node", "cordon", "node-q");
    assertEquals(1, unknown.exit());
    assertTrue(unknown.err().contains("no node 'node-q'"));
  }

  @Test
  void cluster_status_summarises_members_volumes_and_repairs() {
    Run r = toma("cluster", "status");
    assertEquals(0, r.exit(), r.err());
    assertTrue(r.out().contains("members:     3, all reachable"), r.out());
    assertTrue(r.out().lines().anyMatch(l -> l.startsWith("vol-1") && l.contains("rebuild") && l.endsWith("42%")), r.out());
  }

  @Test
  void events_are_printed_one_per_line() {
    Run r = toma("events");
    assertEquals(0, r.exit(), r.err());
    List<String> lines = r.out().lines().toList();
    assertEquals(2, lines.size(), r.out());
    assertTrue(lines.get(0).matches("00:00:00  fault-detected\\s+node-b\\s+disk node-b-nvme0 lost"), lines.get(0));
    Run one = toma("events", "--follow", "--count", "1", "-o", "json");
    assertEquals(0, one.exit(), one.err());
    assertTrue(one.out().strip().startsWith("{\"type\":\"fault-detected\""), one.out());
  }

  @Test
  void tokens_come_from_the_option_or_the_environment_and_refusals_are_explained() {
    Map<String, String> noToken = Map.of("TOMA_SERVER", server.base());
    Run none = tomaWith(noToken, "volume", "list");
    assertEquals(1, none.exit());
    assertTrue(none.err().contains("bearer token"), none.err());
    Run option = tomaWith(noToken, "volume", "list", "--token", READER);
    assertEquals(0, option.exit(), option.err());
    Run readOnly = tomaWith(noToken, "volume", "create", "ro", "--size", "1GiB", "--token", READER);
    assertEquals(1, readOnly.exit());
    assertTrue(readOnly.err().contains("read-only"), readOnly.err());
    Run explicit = tomaWith(Map.of(), "node", "list", "--server", server.base(), "--token", WRITER);
    assertEquals(0, explicit.exit(), explicit.err());
  }

  @Test
  void an_unreachable_server_is_reported_and_exits_1() {
    Run r = tomaWith(Map.of(), "cluster", "status", "--server", "http://127.0.0.1:1");
    assertEquals(1, r.exit());
    assertTrue(r.err().startsWith("error: cannot reach the Toma server at http://127.0.0.1:1"), r.err());
    Run bad = tomaWith(Map.of(), "cluster", "status", "--server", "not a url");
    assertEquals(1, bad.exit());
    assertTrue(bad.err().contains("is not a server URL"), bad.err());
  }
}
