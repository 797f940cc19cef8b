package io.toma.config;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigObject;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.EnumSet;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import java.util.Set;
import java.util.regex.Pattern;

/**
 * Everything a Toma node reads from its configuration ({@code toma { ... }}), typed and checked.
 * Build it with {@link #load(Config)} or {@link #validate(Config)}; both look at every key and
 * report every problem, not only the first.
 */
public record TomaSettings(
    Node node,
    Http http,
    Api api,
    Membership cluster,
    Timeouts timeouts,
    Placement placement,
    Rebuild rebuild,
    Journal journal,
    Path dataDir,
    Healing healing) {

  /** Who this machine is and where it sits in the failure-domain tree. */
  public record Node(String id, Set<Role> roles, String zone, String rack, HostPort fabricAddress) {
    public Node {
      roles = Set.copyOf(roles);
    }

    public boolean hasRole(Role role) {
      return roles.contains(role);
    }

    /**
     * The Pekko cluster roles of this node: its Toma roles plus {@code zone:<zone>} and
     * {@code rack:<rack>}, so any member sees every member's failure domain from gossip.
     */
    public List<String> clusterRoles() {
      List<String> result = new ArrayList<>();
      roles.stream().sorted(Comparator.naturalOrder()).map(Role::configName).forEach(result::add);
      result.add(ClusterRoles.ZONE_PREFIX + zone);
      result.add(ClusterRoles.RACK_PREFIX + rack);
      return List.copyOf(result);
    }
  }

  public record Http(String bindAddress, int port) {}

  public record ApiToken(String token, boolean readOnly) {
    @Override
    public String toString() {
      return "ApiToken[token=***, readOnly=" + readOnly + "]";
    }
  }

  public record Api(boolean authEnabled, List<ApiToken> tokens) {
    public Api {
      tokens = List.copyOf(tokens);
    }
  }

  /** This node's membership in the Pekko cluster. */
  public record Membership(String systemName, HostPort canonical, List<HostPort> seedNodes) {
    public Membership {
      seedNodes = List.copyOf(seedNodes);
    }
  }

  public record Timeouts(
      Duration keepAlive,
      Duration ctrlLoss,
      Duration reconnectDelay,
      Duration legFastIoFail,
      Duration hostIoTimeout,
      Duration selfFence,
      Duration linkGraceWindow,
      Duration applyRetryInterval) {}

  /** @param reserveFraction share of every disk kept free for re-protection, 0 <= f < 1 */
  public record Placement(double reserveFraction) {}

  public record Rebuild(int maxConcurrentPerDisk, int maxConcurrentPerNode) {}

  /**
   * The manager's self-healing windows ({@code toma.healing.*}); docs/failures.md justifies the
   * defaults. The rebuild caps are {@link Rebuild}, the self-fence and host I/O timeouts
   * {@link Timeouts}.
   *
   * @param graceWindow a doubtful loss (node unreachable but not downed) that ends within it is
   *     resynced, not rebuilt
   * @param rackCorrelationWindow losses in one rack starting within it are one rack loss
   * @param fenceConfirmTimeout how long a failover waits for a disk node's fence confirmation
   * @param controllerFailoverConfirm how long a majority must see a controller node unreachable
   *     before its volumes fail over early
   */
  public record Healing(
      Duration graceWindow,
      Duration rackCorrelationWindow,
      Duration fenceConfirmTimeout,
      Duration controllerFailoverConfirm) {}

  public enum JournalKind {
    H2,
    POSTGRES;

    public String configName() {
      return name().toLowerCase(Locale.ROOT);
    }
  }

  /**
   * Where events and snapshots go. For {@code h2} the URL is derived from the data directory;
   * for {@code postgres} it is {@code toma.jdbc.url}.
   */
  public record Journal(
      JournalKind kind, Optional<String> jdbcUrl, String user, String password, int maxConnections) {
    @Override
    public String toString() {
      return "Journal[kind=" + kind + ", jdbcUrl=" + jdbcUrl + ", user=" + user
          + ", password=***, maxConnections=" + maxConnections + "]";
    }
  }

  private static final Pattern NODE_ID = Pattern.compile("[A-Za-z0-9][A-Za-z0-9._-]*");

  /**
   * Reads and checks {@code toma.*}.
   *
   * @throws InvalidSettingsException with every problem found
   */
  public static TomaSettings load(Config config) {
    SettingsResult result = validate(config);
    if (result instanceof SettingsResult.Invalid invalid) {
      throw new InvalidSettingsException(invalid.problems());
    }
    return ((SettingsResult.Valid) result).settings();
  }

  /** Reads and checks {@code toma.*}; never throws for a bad value. */
  public static SettingsResult validate(Config config) {
    SettingsReader r = new SettingsReader(config);
    Optional<Node> node = readNode(r);
    Optional<Http> http = readHttp(r);
    Optional<Api> api = readApi(r);
    Optional<Membership> cluster = readMembership(r);
    Optional<Timeouts> timeouts = readTimeouts(r);
    Optional<Placement> placement = readPlacement(r);
    Optional<Rebuild> rebuild = readRebuild(r);
    Optional<Journal> journal = readJournal(r);
    Optional<Path> dataDir = r.nonBlank("toma.data-dir").map(Path::of);
    Optional<Healing> healing = readHealing(r, timeouts);
    if (!r.problems().isEmpty()) {
      return new SettingsResult.Invalid(r.problems());
    }
    return new SettingsResult.Valid(
        new TomaSettings(
            node.orElseThrow(),
            http.orElseThrow(),
            api.orElseThrow(),
            cluster.orElseThrow(),
            timeouts.orElseThrow(),
            placement.orElseThrow(),
            rebuild.orElseThrow(),
            journal.orElseThrow(),
            dataDir.orElseThrow(),
            healing.orElseThrow()));
  }

  private static Optional<Node> readNode(SettingsReader r) {
    Optional<String> id = r.nonBlank("toma.node.id");
    if (id.isPresent() && !NODE_ID.matcher(id.get()).matches()) {
      r.problem("toma.node.id", "(" + id.get() + ") may hold only letters, digits, '.', '_' and '-'");
      id = Optional.empty();
    }
    Optional<Set<Role>> roles = r.strings("toma.node.roles").flatMap(names -> readRoles(r, names));
    Optional<String> zone = r.nonBlank("toma.node.zone");
    Optional<String> rack = r.nonBlank("toma.node.rack");
    Optional<HostPort> fabric = r.hostPort("toma.node.fabric-address");
    if (id.isEmpty() || roles.isEmpty() || zone.isEmpty() || rack.isEmpty() || fabric.isEmpty()) {
      return Optional.empty();
    }
    return Optional.of(new Node(id.get(), roles.get(), zone.get(), rack.get(), fabric.get()));
  }

  private static Optional<Set<Role>> readRoles(SettingsReader r, List<String> names) {
    if (names.isEmpty()) {
      r.problem("toma.node.roles", "must name at least one of manager, disk, controller, host");
      return Optional.empty();
    }
    EnumSet<Role> roles = EnumSet.noneOf(Role.class);
    boolean ok = true;
    for (String name : names) {
      Optional<Role> role = Role.fromConfigName(name);
      if (role.isEmpty()) {
        r.problem(
            "toma.node.roles",
            "has unknown role '" + name + "' (known: manager, disk, controller, host)");
        ok = false;
      } else {
        roles.add(role.get());
      }
    }
    return ok ? Optional.of(roles) : Optional.empty();
  }

  private static Optional<Http> readHttp(SettingsReader r) {
    Optional<String> bind = r.nonBlank("toma.http.bind-address");
    Optional<Integer> port = r.port("toma.http.port");
    return bind.isPresent() && port.isPresent()
        ? Optional.of(new Http(bind.get(), port.get()))
        : Optional.empty();
  }

  private static Optional<Api> readApi(SettingsReader r) {
    Optional<Boolean> enabled = r.bool("toma.api.auth-enabled");
    Optional<List<? extends ConfigObject>> entries = r.objects("toma.api.tokens");
    if (enabled.isEmpty() || entries.isEmpty()) {
      return Optional.empty();
    }
    List<ApiToken> tokens = new ArrayList<>();
    boolean ok = true;
    for (int i = 0; i < entries.get().size(); i++) {
      Config entry = entries.get().get(i).toConfig();
      String key = "toma.api.tokens[" + i + "]";
      if (!entry.hasPath("token") || entry.getValue("token").unwrapped().toString().isBlank()) {
        r.problem(key + ".token", "is required and must not be empty");
        ok = false;
        continue;
      }
      boolean readOnly = false;
      if (entry.hasPath("read-only")) {
        Object value = entry.getValue("read-only").unwrapped();
        if (value instanceof Boolean b) {
          readOnly = b;
        } else {
          r.problem(key + ".read-only", "(" + value + ") must be true or false");
          ok = false;
          continue;
        }
      }
      tokens.add(new ApiToken(entry.getValue("token").unwrapped().toString(), readOnly));
    }
    if (enabled.get() && entries.get().isEmpty()) {
      r.problem("toma.api.tokens", "must hold at least one token when toma.api.auth-enabled = true");
      ok = false;
    }
    return ok ? Optional.of(new Api(enabled.get(), tokens)) : Optional.empty();
  }

  private static Optional<Membership> readMembership(SettingsReader r) {
    Optional<String> name = r.nonBlank("toma.cluster.system-name");
    Optional<String> host = r.nonBlank("toma.cluster.canonical-hostname");
    Optional<Integer> port = r.port("toma.cluster.canonical-port");
    Optional<List<HostPort>> seeds =
        r.strings("toma.cluster.seed-nodes")
            .flatMap(
                texts -> {
                  List<HostPort> parsed = new ArrayList<>();
                  boolean ok = true;
                  for (String text : texts) {
                    Optional<HostPort> seed = r.parseHostPort("toma.cluster.seed-nodes", text);
                    seed.ifPresent(parsed::add);
                    ok &= seed.isPresent();
                  }
                  if (texts.isEmpty()) {
                    r.problem("toma.cluster.seed-nodes", "must name at least one host:port");
                    ok = false;
                  }
                  return ok ? Optional.of(parsed) : Optional.empty();
                });
    if (name.isEmpty() || host.isEmpty() || port.isEmpty() || seeds.isEmpty()) {
      return Optional.empty();
    }
    return Optional.of(new Membership(name.get(), new HostPort(host.get(), port.get()), seeds.get()));
  }

  private static Optional<Timeouts> readTimeouts(SettingsReader r) {
    Optional<Duration> keepAlive = positive(r, "toma.timeouts.keep-alive");
    Optional<Duration> ctrlLoss = positive(r, "toma.timeouts.ctrl-loss");
    Optional<Duration> reconnect = positive(r, "toma.timeouts.reconnect-delay");
    Optional<Duration> fastFail = notNegative(r, "toma.timeouts.leg-fast-io-fail");
    Optional<Duration> hostIo = positive(r, "toma.timeouts.host-io-timeout");
    Optional<Duration> selfFence = positive(r, "toma.timeouts.self-fence");
    Optional<Duration> grace = notNegative(r, "toma.timeouts.link-grace-window");
    Optional<Duration> retry = positive(r, "toma.timeouts.apply-retry-interval");
    if (keepAlive.isPresent()
        && hostIo.isPresent()
        && hostIo.get().compareTo(keepAlive.get().multipliedBy(2)) < 0) {
      // A retried host I/O must not race a write still in flight from a fenced controller.
      r.problem(
          "toma.timeouts.host-io-timeout",
          "(" + SettingsReader.format(hostIo.get()) + ") must be at least 2 x toma.timeouts.keep-alive ("
              + SettingsReader.format(keepAlive.get()) + ")");
      hostIo = Optional.empty();
    }
    if (keepAlive.isPresent()
        && ctrlLoss.isPresent()
        && ctrlLoss.get().compareTo(keepAlive.get()) < 0) {
      r.problem(
          "toma.timeouts.ctrl-loss",
          "(" + SettingsReader.format(ctrlLoss.get()) + ") must be at least toma.timeouts.keep-alive ("
              + SettingsReader.format(keepAlive.get()) + ")");
      ctrlLoss = Optional.empty();
    }
    if (keepAlive.isEmpty() || ctrlLoss.isEmpty() || reconnect.isEmpty() || fastFail.isEmpty()
        || hostIo.isEmpty() || selfFence.isEmpty() || grace.isEmpty() || retry.isEmpty()) {
      return Optional.empty();
    }
    return Optional.of(
        new Timeouts(
            keepAlive.get(), ctrlLoss.get(), reconnect.get(), fastFail.get(),
            hostIo.get(), selfFence.get(), grace.get(), retry.get()));
  }

  private static Optional<Healing> readHealing(SettingsReader r, Optional<Timeouts> timeouts) {
    Optional<Duration> grace = notNegative(r, "toma.healing.grace-window");
    Optional<Duration> rack = notNegative(r, "toma.healing.rack-correlation-window");
    Optional<Duration> fence = positive(r, "toma.healing.fence-confirm-timeout");
    Optional<Duration> confirm = notNegative(r, "toma.healing.controller-failover-confirm");
    if (grace.isPresent() && rack.isPresent() && rack.get().compareTo(grace.get()) >= 0) {
      // a rack group is decided when its latest member's grace ends: a window as long as the grace
      // would let a group keep growing after its first member was due
      r.problem("toma.healing.rack-correlation-window", "(" + SettingsReader.format(rack.get())
          + ") must be shorter than toma.healing.grace-window (" + SettingsReader.format(grace.get()) + ")");
      rack = Optional.empty();
    }
    if (grace.isPresent() && confirm.isPresent() && confirm.get().compareTo(grace.get()) > 0) {
      // past the grace window the node is declared lost anyway: the early failover would never come first
      r.problem("toma.healing.controller-failover-confirm", "(" + SettingsReader.format(confirm.get())
          + ") must not be longer than toma.healing.grace-window (" + SettingsReader.format(grace.get()) + ")");
      confirm = Optional.empty();
    }
    if (timeouts.isPresent() && timeouts.get().selfFence().compareTo(timeouts.get().hostIoTimeout()) >= 0) {
      // a host retries on the new path only after its I/O timeout: by then the cut-off controller
      // must have stopped serving
      r.problem("toma.timeouts.self-fence", "(" + SettingsReader.format(timeouts.get().selfFence())
          + ") must be shorter than toma.timeouts.host-io-timeout ("
          + SettingsReader.format(timeouts.get().hostIoTimeout()) + ")");
      return Optional.empty();
    }
    if (grace.isEmpty() || rack.isEmpty() || fence.isEmpty() || confirm.isEmpty()) {
      return Optional.empty();
    }
    return Optional.of(new Healing(grace.get(), rack.get(), fence.get(), confirm.get()));
  }

  private static Optional<Duration> positive(SettingsReader r, String key) {
    Optional<Duration> d = r.duration(key);
    if (d.isPresent() && (d.get().isNegative() || d.get().isZero())) {
      r.problem(key, "(" + SettingsReader.format(d.get()) + ") must be greater than zero");
      return Optional.empty();
    }
    return d;
  }

  private static Optional<Duration> notNegative(SettingsReader r, String key) {
    Optional<Duration> d = r.duration(key);
    if (d.isPresent() && d.get().isNegative()) {
      r.problem(key, "(" + SettingsReader.format(d.get()) + ") must not be negative");
      return Optional.empty();
    }
    return d;
  }

  private static Optional<Placement> readPlacement(SettingsReader r) {
    String key = "toma.placement.reserve-fraction";
    Optional<Double> f = r.decimal(key);
    if (f.isPresent() && (f.get() < 0 || f.get() >= 1)) {
      r.problem(key, "(" + f.get() + ") must be at least 0 and below 1");
      return Optional.empty();
    }
    return f.map(Placement::new);
  }

  private static Optional<Rebuild> readRebuild(SettingsReader r) {
    Optional<Integer> perDisk = atLeastOne(r, "toma.rebuild.max-concurrent-per-disk");
    Optional<Integer> perNode = atLeastOne(r, "toma.rebuild.max-concurrent-per-node");
    return perDisk.isPresent() && perNode.isPresent()
        ? Optional.of(new Rebuild(perDisk.get(), perNode.get()))
        : Optional.empty();
  }

  private static Optional<Integer> atLeastOne(SettingsReader r, String key) {
    Optional<Integer> n = r.integer(key);
    if (n.isPresent() && n.get() < 1) {
      r.problem(key, "(" + n.get() + ") must be at least 1");
      return Optional.empty();
    }
    return n;
  }

  private static Optional<Journal> readJournal(SettingsReader r) {
    Optional<JournalKind> kind =
        r.nonBlank("toma.journal")
            .flatMap(
                name -> {
                  for (JournalKind k : JournalKind.values()) {
                    if (k.configName().equals(name)) {
                      return Optional.of(k);
                    }
                  }
                  r.problem("toma.journal", "(" + name + ") must be h2 or postgres");
                  return Optional.empty();
                });
    Optional<String> url = Optional.empty();
    if (kind.isPresent() && kind.get() == JournalKind.POSTGRES) {
      url = r.nonBlank("toma.jdbc.url");
    } else if (r.has("toma.jdbc.url")) {
      url = r.string("toma.jdbc.url").filter(u -> !u.isBlank());
    }
    Optional<String> user = r.string("toma.jdbc.user");
    Optional<String> password = r.string("toma.jdbc.password");
    Optional<Integer> pool = atLeastOne(r, "toma.jdbc.max-connections");
    if (kind.isEmpty() || user.isEmpty() || password.isEmpty() || pool.isEmpty()
        || (kind.get() == JournalKind.POSTGRES && url.isEmpty())) {
      return Optional.empty();
    }
    return Optional.of(new Journal(kind.get(), url, user.get(), password.get(), pool.get()));
  }
}
