package io.toma.agent.watch;

import static org.junit.jupiter.api.Assertions.*;

import io.toma.agent.AgentProtocol.DiskLost;
import io.toma.agent.AgentProtocol.PathLost;
import io.toma.agent.AgentProtocol.PathRestored;
import io.toma.agent.AgentProtocol.RaidMemberStatus;
import io.toma.kernel.Kernel.BlockDeviceInfo;
import io.toma.kernel.KernelState.ControllerState;
import io.toma.kernel.KernelState.DmDeviceState;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Test;

class WatchersTest {
  private static final Map<String, String> DISKS = Map.of("d0", "/dev/nullb0", "d1", "/dev/nullb1");

  private static List<BlockDeviceInfo> present(boolean d0, boolean d1) {
    return List.of(new BlockDeviceInfo("/dev/nullb0", 1, d0), new BlockDeviceInfo("/dev/nullb1", 1, d1));
  }

  @Test
  void a_disk_missing_in_one_read_only_is_not_reported() {
    var w = DiskWatcher.start("n1", 2);
    var s1 = w.observe(DISKS, present(false, true));
    assertEquals(List.of(), s1.reports());
    var s2 = s1.next().observe(DISKS, present(true, true));
    assertEquals(List.of(), s2.reports());
    assertEquals(List.of(), s2.next().observe(DISKS, present(false, true)).reports());
  }

  @Test
  void a_disk_gone_in_two_reads_is_reported_lost_once() {
    var s = DiskWatcher.start("n1", 2).observe(DISKS, present(true, false));
    s = s.next().observe(DISKS, present(true, false));
    assertEquals(1, s.reports().size());
    DiskLost lost = (DiskLost) s.reports().get(0);
    assertEquals("d1", lost.diskId());
    assertEquals("n1", lost.nodeId());
    s = s.next().observe(DISKS, present(true, false));
    assertEquals(List.of(), s.reports(), "reported once, not at every read");
  }

  private static ControllerState ctrl(String state) {
    return new ControllerState("nvme0", "nqn.2026-11.io.toma:ld:v-m0", "10.0.0.1", 4420, "h", state, Map.of());
  }

  private static final Set<PathWatcher.Path> WANTED = Set.of(new PathWatcher.Path("nqn.2026-11.io.toma:ld:v-m0", "10.0.0.1", 4420));

  @Test
  void a_path_connecting_within_the_grace_window_is_not_reported() {
    var w = PathWatcher.start("n1", Duration.ofSeconds(10));
    var s = w.observe(WANTED, List.of(ctrl("connecting")), 0);
    s = s.next().observe(WANTED, List.of(ctrl("connecting")), 9_000);
    assertEquals(List.of(), s.reports());
    s = s.next().observe(WANTED, List.of(ctrl("live")), 9_500);
    assertEquals(List.of(), s.reports(), "a blip that came back is not news");
  }

  @Test
  void a_path_stuck_connecting_past_the_grace_window_is_lost_once_then_restored() {
    var s = PathWatcher.start("n1", Duration.ofSeconds(10)).observe(WANTED, List.of(ctrl("connecting")), 0);
    s = s.next().observe(WANTED, List.of(ctrl("connecting")), 10_000);
    assertEquals(1, s.reports().size());
    PathLost lost = (PathLost) s.reports().get(0);
    assertEquals("10.0.0.1:4420", lost.peerAddress());
    s = s.next().observe(WANTED, List.of(), 20_000); // deleted after ctrl-loss: still lost, not again
    assertEquals(List.of(), s.reports());
    s = s.next().observe(WANTED, List.of(ctrl("live")), 21_000);
    assertEquals(List.of(new PathRestored("n1", "nqn.2026-11.io.toma:ld:v-m0", "10.0.0.1:4420")), s.reports());
  }

  @Test
  void a_path_no_longer_wanted_is_forgotten_silently() {
    var s = PathWatcher.start("n1", Duration.ZERO).observe(WANTED, List.of(ctrl("connecting")), 0);
    s = s.next().observe(Set.of(), List.of(ctrl("connecting")), 5_000);
    assertEquals(List.of(), s.reports());
    assertTrue(s.next().notLiveSince().isEmpty());
  }

  private static Map<String, DmDeviceState> raid(String status) {
    return Map.of("toma-v-leg0", new DmDeviceState("toma-v-leg0", List.of(), false, status));
  }

  @Test
  void a_raid1_member_marked_dead_is_reported_after_two_reads_and_sync_progress_is_not_news() {
    Map<String, String> volumes = Map.of("toma-v-leg0", "v");
    var s = RaidWatcher.start("n1").observe(raid("0 253952 raid raid1 2 AA 253952/253952 idle 0 0 -"), volumes);
    assertEquals(List.of(), s.reports());
    s = s.next().observe(raid("0 253952 raid raid1 2 AA 253952/253952 idle 0 0 -"), volumes);
    assertEquals(1, s.reports().size(), "the first confirmed state is reported");
    s = s.next().observe(raid("0 253952 raid raid1 2 DA 253952/253952 idle 0 0 -"), volumes);
    assertEquals(List.of(), s.reports(), "one read is doubtful");
    s = s.next().observe(raid("0 253952 raid raid1 2 DA 253952/253952 idle 0 0 -"), volumes);
    assertEquals(List.of(new RaidMemberStatus("n1", "v", "toma-v-leg0", "DA", 253952, 253952, "idle")), s.reports());
    s = s.next().observe(raid("0 253952 raid raid1 2 DA 253952/253952 idle 0 0 -"), volumes);
    assertEquals(List.of(), s.reports());
  }
}
