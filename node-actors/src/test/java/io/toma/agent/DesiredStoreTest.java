package io.toma.agent;

import static io.toma.kernel.fake.Fixtures.*;
import static org.junit.jupiter.api.Assertions.*;

import io.toma.agent.DesiredStore.StoredVolume;
import io.toma.kernel.DesiredState.AnaState;
import io.toma.kernel.KernelOp;
import io.toma.kernel.reconcile.AppliedRecord;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class DesiredStoreTest {

  @Test
  void a_desired_state_survives_a_restart_of_the_store(@TempDir Path dir) throws Exception {
    var desired = controller("vol1", AnaState.INACCESSIBLE);
    new DesiredStore(dir).save(new StoredVolume("vol1", 7, Optional.of(desired)));
    new DesiredStore(dir).save(new StoredVolume("vol2", 3, Optional.empty()));

    Map<String, StoredVolume> loaded = new DesiredStore(dir).loadVolumes();
    assertEquals(new StoredVolume("vol1", 7, Optional.of(desired)), loaded.get("vol1"));
    assertEquals(Optional.empty(), loaded.get("vol2").desired(), "a removal is kept as a tombstone");
  }

  @Test
  void a_newer_revision_replaces_the_file_and_a_crash_leftover_is_ignored(@TempDir Path dir) throws Exception {
    DesiredStore store = new DesiredStore(dir);
    store.save(new StoredVolume("vol1", 1, Optional.of(diskNode("vol1", 100))));
    store.save(new StoredVolume("vol1", 2, Optional.of(diskNode("vol1", 200))));
    Files.writeString(dir.resolve("volumes/.vol1.json.tmp"), "{ half a fi");

    Map<String, StoredVolume> loaded = store.loadVolumes();
    assertEquals(1, loaded.size());
    assertEquals(2, loaded.get("vol1").revision());
  }

  @Test
  void the_applied_record_round_trips(@TempDir Path dir) throws Exception {
    DesiredStore store = new DesiredStore(dir);
    assertEquals(AppliedRecord.empty(), store.loadRecord());
    AppliedRecord rec = AppliedRecord.empty()
        .after(new KernelOp.DmCreate("toma-a", java.util.List.of(line(8, "linear", "@disk:d0 0"))))
        .after(new KernelOp.PortCreate(4, "tcp", "ipv4", "10.0.0.1", 4420))
        .after(new KernelOp.HostCreate(APP_HOST))
        .withEpochsOf(Map.of("vol1", diskNode("vol1", 8, 5, java.util.List.of())));
    store.saveRecord(rec);
    assertEquals(rec, new DesiredStore(dir).loadRecord());
  }

  @Test
  void a_volume_id_that_is_not_a_safe_file_name_is_refused(@TempDir Path dir) {
    assertThrows(java.io.IOException.class,
        () -> new DesiredStore(dir).save(new StoredVolume("../etc", 1, Optional.empty())));
  }
}
