package io.toma.kernel;

import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * One dm-raid status line as {@code dmsetup status} prints it (kernel-recipes.md):
 * {@code 0 253952 raid raid1 2 aA 120000/253952 recover 0 0 -}: start, length, "raid", raid type,
 * member count, one health character per member, synced/total sectors, sync action, and what
 * follows (mismatch count, data offset, journal), which Toma does not need.
 */
public record DmRaidStatus(
    long start,
    long length,
    String raidType,
    String health,
    long syncedSectors,
    long totalSectors,
    String syncAction) {

  public enum MemberHealth {
    /** 'A': alive and in sync. */
    IN_SYNC,
    /** 'a': alive, not (yet) in sync: resyncing or recovering. */
    SYNCING,
    /** 'D': dead or failed; raid1 carries on without it. */
    DEAD,
    /** '-': no device in that slot. */
    ABSENT
  }

  /** Parses one status line; refuses anything that is not a complete raid status. */
  public static DmRaidStatus parse(String line) {
    String[] f = line.trim().split("\\s+");
    if (f.length < 8 || !f[2].equals("raid")) {
      throw new IllegalArgumentException("not a dm-raid status line: '" + line.trim() + "'");
    }
    try {
      long start = Long.parseLong(f[0]);
      long length = Long.parseLong(f[1]);
      int members = Integer.parseInt(f[4]);
      String health = f[5];
      if (health.length() != members || !health.matches("[AaD-]+")) {
        throw new IllegalArgumentException("dm-raid status '" + line.trim() + "': health '" + health
            + "' does not describe " + members + " members");
      }
      String[] ratio = f[6].split("/");
      if (ratio.length != 2) {
        throw new IllegalArgumentException("dm-raid status '" + line.trim() + "': sync ratio '" + f[6] + "'");
      }
      return new DmRaidStatus(start, length, f[3], health, Long.parseLong(ratio[0]),
          Long.parseLong(ratio[1]), f[7]);
    } catch (NumberFormatException e) {
      throw new IllegalArgumentException("dm-raid status '" + line.trim() + "': " + e.getMessage(), e);
    }
  }

  /** The raid line of a device's status text, if it has one (other targets print other things). */
  public static Optional<DmRaidStatus> tryParse(String statusText) {
    for (String line : statusText.split("\n")) {
      String[] f = line.trim().split("\\s+");
      if (f.length >= 8 && f[2].equals("raid")) {
        try {
          return Optional.of(parse(line));
        } catch (IllegalArgumentException e) {
          return Optional.empty();
        }
      }
    }
    return Optional.empty();
  }

  public List<MemberHealth> members() {
    List<MemberHealth> out = new ArrayList<>();
    for (char c : health.toCharArray()) {
      out.add(switch (c) {
        case 'A' -> MemberHealth.IN_SYNC;
        case 'a' -> MemberHealth.SYNCING;
        case 'D' -> MemberHealth.DEAD;
        default -> MemberHealth.ABSENT;
      });
    }
    return List.copyOf(out);
  }

  /** Slots (0-based, table order) of dead members. */
  public List<Integer> deadSlots() {
    List<Integer> out = new ArrayList<>();
    for (int i = 0; i < health.length(); i++) {
      if (health.charAt(i) == 'D') {
        out.add(i);
      }
    }
    return List.copyOf(out);
  }

  /** Every member alive and in sync, nothing left to resync. */
  public boolean fullyInSync() {
    return health.chars().allMatch(c -> c == 'A') && syncedSectors == totalSectors;
  }
}
