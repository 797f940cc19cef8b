package io.toma.kernel.sim;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.OptionalLong;
import java.util.SortedSet;
import java.util.TreeSet;

/**
 * dm-raid raid1: {@code raid1 <#params> <chunk> [rebuild <slot>]... [region_size <n>] <#devs>
 * <meta> <data> ...}.
 *
 * <p>Writes go to every live member; a member whose I/O fails is marked dead ({@code D}) and I/O
 * carries on with the others; reads come from the first in-sync member. A member that is blank,
 * stale or named in {@code rebuild} is recovered from an in-sync member in the background, at
 * {@code bandwidth} bytes per second of simulated time ({@code aA ... recover} → {@code AA ...
 * idle}). State lives in superblocks on the metadata devices ({@link RaidSuperblock}), so a
 * reload or a restart reassembles the array as the kernel does, and a new device put in a slot
 * without {@code rebuild} is refused.
 */
final class Raid1Target implements DmTarget {

  enum Health { IN_SYNC, RECOVERING, DEAD }

  enum Action { IDLE, RESYNC, RECOVER }

  /** A slot; {@code -} for metadata or data is an absent device (a missing member: always dead). */
  record Member(Optional<DevRef> meta, Optional<DevRef> data) {}

  /** A refusal by the target's constructor, with the kernel's words. */
  static final class ConstructorError extends Exception {
    ConstructorError(String message) {
      super(message);
    }
  }

  private static final int COPY_CHUNK = 256 * 1024;

  private final long lengthSectors;
  private final Optional<Long> regionSize;
  private final SortedSet<Integer> rebuild;
  private final List<Member> members;
  private final long bandwidthBytesPerSecond;
  private final Health[] health;
  private Action action;
  private long syncPosition; // bytes
  private long events;
  private long lastTickNanos;
  private boolean active;

  private Raid1Target(
      long lengthSectors, Optional<Long> regionSize, SortedSet<Integer> rebuild, List<Member> members,
      long bandwidthBytesPerSecond) {
    this.lengthSectors = lengthSectors;
    this.regionSize = regionSize;
    this.rebuild = rebuild;
    this.members = List.copyOf(members);
    this.bandwidthBytesPerSecond = bandwidthBytesPerSecond;
    this.health = new Health[members.size()];
  }

  /** The constructor: parses and checks the arguments, then reads the members' superblocks. */
  static Raid1Target construct(
      long lengthSectors, List<String> args, DeviceResolver resolver, long bandwidthBytesPerSecond)
      throws ConstructorError, DeviceResolver.LookupFailed {
    if (args.isEmpty() || !args.get(0).equals("raid1")) {
      throw new ConstructorError("Unrecognised raid_type" + (args.isEmpty() ? "" : ": " + args.get(0)));
    }
    int position = 1;
    int paramCount = number(args, position++, "Cannot understand number of RAID parameters");
    if (args.size() < position + paramCount) {
      throw new ConstructorError("Not enough arguments");
    }
    List<String> params = args.subList(position, position + paramCount);
    position += paramCount;
    // Like raid_ctr: the device count right after the parameters is read before the parameters
    // are parsed, bounded by what is left, so a wrong #params mostly fails here.
    int deviceCount = number(args, position++, "Cannot understand number of raid devices parameters");
    if (deviceCount < 1 || deviceCount > (args.size() - position) / 2) {
      throw new ConstructorError("Cannot understand number of raid devices parameters");
    }
    if (args.size() - position != 2 * deviceCount) {
      throw new ConstructorError("Invalid number of supplied raid devices");
    }
    if (params.isEmpty()) {
      throw new ConstructorError("Not enough arguments");
    }
    Optional<Long> regionSize = Optional.empty();
    SortedSet<Integer> rebuild = new TreeSet<>();
    // params.get(0) is the chunk size, ignored by raid1 (the kernel accepts 0).
    for (int i = 1; i < params.size(); i++) {
      String key = params.get(i);
      if (key.equalsIgnoreCase("sync") || key.equalsIgnoreCase("nosync")) {
        continue;
      }
      if (i + 1 >= params.size()) {
        throw new ConstructorError("Wrong number of raid parameters given");
      }
      long value = numberParam(params.get(++i));
      switch (key.toLowerCase()) {
        case "rebuild" -> {
          if (value >= deviceCount) {
            throw new ConstructorError("Invalid rebuild index given");
          }
          rebuild.add((int) value);
        }
        case "region_size" -> regionSize = Optional.of(value);
        default -> throw new ConstructorError("Unable to parse RAID parameter: " + key);
      }
    }
    List<Member> members = new ArrayList<>();
    for (int slot = 0; slot < deviceCount; slot++) {
      String meta = args.get(position + 2 * slot);
      String data = args.get(position + 2 * slot + 1);
      Optional<DevRef> metaRef = meta.equals("-") ? Optional.empty() : Optional.of(resolver.resolve(meta));
      Optional<DevRef> dataRef = data.equals("-") ? Optional.empty() : Optional.of(resolver.resolve(data));
      if (dataRef.isPresent() && dataRef.get().device().sizeBytes() < lengthSectors * 512) {
        throw new ConstructorError("Component device(s) too small");
      }
      members.add(new Member(metaRef, dataRef));
    }
    Raid1Target raid = new Raid1Target(lengthSectors, regionSize, rebuild, members, bandwidthBytesPerSecond);
    raid.assemble();
    return raid;
  }

  private static int number(List<String> args, int index, String error) throws ConstructorError {
    try {
      return Integer.parseInt(args.get(index));
    } catch (IndexOutOfBoundsException | NumberFormatException e) {
      throw new ConstructorError(error);
    }
  }

  private static long numberParam(String value) throws ConstructorError {
    try {
      long parsed = Long.parseLong(value);
      if (parsed < 0) {
        throw new NumberFormatException();
      }
      return parsed;
    } catch (NumberFormatException e) {
      throw new ConstructorError("Bad numerical argument given in raid params");
    }
  }

  /** Reads superblocks and decides each member's health, as dm-raid's analyse_superblocks. */
  private void assemble() throws ConstructorError {
    List<Optional<RaidSuperblock>> superblocks = new ArrayList<>();
    boolean[] unreadable = new boolean[members.size()];
    for (int slot = 0; slot < members.size(); slot++) {
      Optional<DevRef> meta = members.get(slot).meta();
      if (meta.isEmpty() || rebuild.contains(slot)) {
        // dm-raid's super_load rewrites the superblock of a device named in "rebuild" instead of
        // trusting it: a stale one (an extent reused from another array) must never win as freshest.
        superblocks.add(Optional.empty());
        continue;
      }
      IoResult result = meta.get().device().read(0, RaidSuperblock.SIZE);
      if (result instanceof IoResult.Ok ok) {
        superblocks.add(RaidSuperblock.decode(ok.data()));
      } else {
        unreadable[slot] = true;
        superblocks.add(Optional.empty());
      }
    }
    Optional<RaidSuperblock> freshest = superblocks.stream().flatMap(Optional::stream)
        .reduce((a, b) -> b.events() > a.events() ? b : a);
    if (freshest.isEmpty()) {
      // A new array: every member is taken as holding data and the first one is copied over the
      // others ("aa 0/N resync"), as for a fresh dm-raid set.
      for (int slot = 0; slot < members.size(); slot++) {
        health[slot] = unreadable[slot] || members.get(slot).data().isEmpty() ? Health.DEAD : Health.IN_SYNC;
      }
      events = 0;
      action = members.size() > 1 ? Action.RESYNC : Action.IDLE;
      syncPosition = 0;
      return;
    }
    RaidSuperblock newest = freshest.get();
    events = newest.events();
    long recoverFrom = Long.MAX_VALUE;
    for (int slot = 0; slot < members.size(); slot++) {
      Optional<RaidSuperblock> own = superblocks.get(slot);
      if (unreadable[slot] || members.get(slot).data().isEmpty()) {
        health[slot] = Health.DEAD;
      } else if (own.isEmpty()) {
        if (!rebuild.contains(slot)) {
          throw new ConstructorError(
              "New device injected into existing raid set without 'delta_disks' or 'rebuild' parameter specified");
        }
        health[slot] = Health.RECOVERING;
        recoverFrom = 0;
      } else {
        RaidSuperblock sb = own.get();
        boolean current = sb.events() == newest.events() && !newest.failed(slot);
        if (current && sb.diskRecoveryOffset() == RaidSuperblock.IN_SYNC) {
          health[slot] = Health.IN_SYNC;
        } else {
          health[slot] = Health.RECOVERING;
          long from = current ? sb.diskRecoveryOffset() * 512 : 0;
          recoverFrom = Math.min(recoverFrom, from);
        }
      }
    }
    if (newest.arrayResyncOffset() != RaidSuperblock.IN_SYNC) {
      action = Action.RESYNC;
      syncPosition = newest.arrayResyncOffset() * 512;
    } else if (recoverFrom != Long.MAX_VALUE) {
      action = Action.RECOVER;
      syncPosition = recoverFrom;
    } else {
      action = Action.IDLE;
      syncPosition = lengthBytes();
    }
  }

  /** The data device of a slot that is not dead (an absent member is always dead). */
  private SimBlockDevice dataDevice(int slot) {
    return members.get(slot).data().orElseThrow().device();
  }

  @Override
  public String type() {
    return "raid";
  }

  @Override
  public long lengthSectors() {
    return lengthSectors;
  }

  @Override
  public String tableArgs() {
    // dm-raid prints its parameters in its own order: chunk size, rebuild, then region_size.
    List<String> params = new ArrayList<>();
    params.add("0");
    for (int slot : rebuild) {
      params.add("rebuild");
      params.add(Integer.toString(slot));
    }
    regionSize.ifPresent(size -> {
      params.add("region_size");
      params.add(Long.toString(size));
    });
    StringBuilder args = new StringBuilder("raid1 " + params.size() + " " + String.join(" ", params));
    args.append(' ').append(members.size());
    for (Member member : members) {
      args.append(' ').append(member.meta().map(DevRef::majorMinor).orElse("-"));
      args.append(' ').append(member.data().map(DevRef::majorMinor).orElse("-"));
    }
    return args.toString();
  }

  @Override
  public String statusArgs() {
    StringBuilder chars = new StringBuilder();
    for (Health h : health) {
      chars.append(switch (h) {
        case DEAD -> 'D';
        case RECOVERING -> 'a';
        case IN_SYNC -> action == Action.RESYNC ? 'a' : 'A';
      });
    }
    long synced = action == Action.IDLE ? lengthSectors : syncPosition / 512;
    return "raid1 " + members.size() + " " + chars + " " + synced + "/" + lengthSectors + " "
        + action.name().toLowerCase() + " 0 0 -";
  }

  @Override
  public List<SimBlockDevice> lowerDevices() {
    List<SimBlockDevice> devices = new ArrayList<>();
    for (Member member : members) {
      member.meta().ifPresent(meta -> devices.add(meta.device()));
      member.data().ifPresent(data -> devices.add(data.device()));
    }
    return devices;
  }

  @Override
  public IoResult read(long offset, int length) {
    for (int slot = 0; slot < members.size(); slot++) {
      if (health[slot] != Health.IN_SYNC) {
        continue;
      }
      IoResult result = dataDevice(slot).read(offset, length);
      if (result instanceof IoResult.Error) {
        fail(slot);
        continue;
      }
      return result;
    }
    return new IoResult.Error("raid1: no in-sync member left");
  }

  @Override
  public IoResult write(long offset, byte[] data) {
    Duration latency = Duration.ZERO;
    Optional<IoResult> held = Optional.empty();
    for (int slot = 0; slot < members.size(); slot++) {
      if (health[slot] == Health.DEAD) {
        continue;
      }
      IoResult result = dataDevice(slot).write(offset, data);
      if (result instanceof IoResult.Ok ok) {
        latency = MappedIo.max(latency, ok.latency());
      } else if (result instanceof IoResult.Error) {
        fail(slot);
      } else {
        held = Optional.of(result);
      }
    }
    if (held.isPresent()) {
      return held.get(); // the kernel holds the whole bio until that member completes or fails
    }
    for (Health h : health) {
      if (h == Health.IN_SYNC) {
        return IoResult.written(latency);
      }
    }
    return new IoResult.Error("raid1: no in-sync member left");
  }

  @Override
  public long nextData(long from) {
    for (int slot = 0; slot < members.size(); slot++) {
      if (health[slot] == Health.IN_SYNC) {
        return Math.min(Math.max(dataDevice(slot).nextData(from), from), lengthBytes());
      }
    }
    return lengthBytes();
  }

  @Override
  public void activate(long nowNanos) {
    // Re-read the superblocks: the table loaded earlier may have been swapped in after the old
    // table recorded more failures; the kernel, too, assembles the set when it resumes.
    try {
      assemble();
    } catch (ConstructorError alreadyCheckedAtLoad) {
      // keep the state decided when the table was loaded
    }
    active = true;
    lastTickNanos = nowNanos;
    events++;
    writeSuperblocks();
  }

  /**
   * Like dm-raid's attempt_restore_of_faulty_devices on a second resume: a dead member whose
   * metadata device answers again is taken back and recovered from an in-sync member.
   */
  @Override
  public void resumedInPlace(long nowNanos) {
    boolean restored = false;
    for (int slot = 0; slot < members.size(); slot++) {
      if (health[slot] != Health.DEAD) {
        continue;
      }
      if (members.get(slot).data().isEmpty()) {
        continue; // an absent member stays dead until a table names a device for it
      }
      Optional<DevRef> meta = members.get(slot).meta();
      SimBlockDevice probe = meta.isPresent() ? meta.get().device() : dataDevice(slot);
      if (probe.read(0, RaidSuperblock.SIZE) instanceof IoResult.Ok) {
        health[slot] = Health.RECOVERING;
        restored = true;
      }
    }
    if (restored) {
      if (action == Action.IDLE) {
        action = Action.RECOVER;
        syncPosition = 0;
      } else if (action == Action.RECOVER) {
        syncPosition = 0; // the restored member needs everything
      }
      lastTickNanos = nowNanos;
      events++;
      writeSuperblocks();
    }
  }

  @Override
  public void deactivate() {
    active = false;
  }

  /** A member's I/O failed: mark it dead and record it in the survivors' superblocks. */
  private void fail(int slot) {
    if (health[slot] == Health.DEAD) {
      return;
    }
    health[slot] = Health.DEAD;
    events++;
    writeSuperblocks();
  }

  private void writeSuperblocks() {
    long failed = 0;
    for (int slot = 0; slot < members.size(); slot++) {
      if (health[slot] == Health.DEAD) {
        failed |= 1L << slot;
      }
    }
    for (int slot = 0; slot < members.size(); slot++) {
      Optional<DevRef> meta = members.get(slot).meta();
      if (health[slot] == Health.DEAD || meta.isEmpty()) {
        continue;
      }
      long diskRecovery = health[slot] == Health.RECOVERING ? syncPosition / 512 : RaidSuperblock.IN_SYNC;
      long arrayResync = action == Action.RESYNC ? syncPosition / 512 : RaidSuperblock.IN_SYNC;
      RaidSuperblock sb = new RaidSuperblock(members.size(), slot, events, failed, diskRecovery, arrayResync);
      if (meta.get().device().write(0, sb.encode()) instanceof IoResult.Error) {
        fail(slot); // rewrites the others with this slot marked failed
        return;
      }
    }
  }

  @Override
  public OptionalLong nextDeadlineNanos() {
    if (!active || action == Action.IDLE || source().isEmpty()) {
      return OptionalLong.empty();
    }
    long remaining = lengthBytes() - syncPosition;
    long nanos = (long) Math.ceil(remaining * 1e9 / bandwidthBytesPerSecond);
    return OptionalLong.of(lastTickNanos + Math.max(1, nanos));
  }

  @Override
  public void onTime(long nowNanos, boolean suspended) {
    long elapsed = nowNanos - lastTickNanos;
    lastTickNanos = nowNanos;
    if (!active || suspended || action == Action.IDLE || elapsed <= 0) {
      return;
    }
    long budget = (long) Math.min((double) lengthBytes(), elapsed * (double) bandwidthBytesPerSecond / 1e9);
    long windowEnd = Math.min(lengthBytes(), syncPosition + Math.max(budget, 1));
    copy(windowEnd);
    if (syncPosition >= lengthBytes()) {
      for (int slot = 0; slot < members.size(); slot++) {
        if (health[slot] == Health.RECOVERING) {
          health[slot] = Health.IN_SYNC;
        }
      }
      action = Action.IDLE;
      events++;
    }
    writeSuperblocks();
  }

  private Optional<Integer> source() {
    for (int slot = 0; slot < members.size(); slot++) {
      if (health[slot] == Health.IN_SYNC) {
        return Optional.of(slot);
      }
    }
    return Optional.empty();
  }

  private List<Integer> copyTargets(int source) {
    List<Integer> targets = new ArrayList<>();
    for (int slot = 0; slot < members.size(); slot++) {
      boolean wanted = action == Action.RESYNC ? health[slot] == Health.IN_SYNC : health[slot] == Health.RECOVERING;
      if (slot != source && wanted) {
        targets.add(slot);
      }
    }
    return targets;
  }

  /** Copies [syncPosition, windowEnd) from the source to the targets, skipping holes on both. */
  private void copy(long windowEnd) {
    while (syncPosition < windowEnd) {
      Optional<Integer> source = source();
      if (source.isEmpty()) {
        return; // no in-sync member: the array has failed, nothing to copy from
      }
      List<Integer> targets = copyTargets(source.get());
      if (targets.isEmpty()) {
        syncPosition = windowEnd;
        return;
      }
      long next = dataDevice(source.get()).nextData(syncPosition);
      for (int target : targets) {
        next = Math.min(next, dataDevice(target).nextData(syncPosition));
      }
      if (next >= windowEnd) {
        syncPosition = windowEnd;
        return;
      }
      long start = Math.max(next, syncPosition);
      int length = (int) Math.min(COPY_CHUNK, windowEnd - start);
      IoResult read = dataDevice(source.get()).read(start, length);
      if (read instanceof IoResult.Error) {
        fail(source.get());
        continue;
      }
      if (!(read instanceof IoResult.Ok ok)) {
        return; // held: the resync stalls here and goes on at the next tick
      }
      for (int target : targets) {
        IoResult written = dataDevice(target).write(start, ok.data());
        if (written instanceof IoResult.Error) {
          fail(target);
        } else if (written instanceof IoResult.Retry) {
          return;
        }
      }
      syncPosition = start + length;
    }
  }
}
