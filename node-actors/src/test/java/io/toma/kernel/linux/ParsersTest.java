package io.toma.kernel.linux;

import static org.junit.jupiter.api.Assertions.*;

import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.Test;

class ParsersTest {

  @Test
  void nvme_list_subsys_shows_one_subsystem_with_an_optimized_and_an_inaccessible_path() {
    String out = """
        nvme-subsys2 - NQN=nqn.2026-11.io.toma:vol:vol0
        \\
         +- nvme2 tcp traddr=127.0.0.1,trsvcid=4430 live optimized
         +- nvme3 tcp traddr=127.0.0.1,trsvcid=4431 live inaccessible
        """;
    List<NvmeListSubsys.Subsystem> subs = NvmeListSubsys.parse(out);
    assertEquals(1, subs.size());
    NvmeListSubsys.Subsystem s = subs.get(0);
    assertEquals("nqn.2026-11.io.toma:vol:vol0", s.nqn());
    assertEquals(2, s.paths().size());
    assertEquals("nvme2", s.paths().get(0).controller());
    assertEquals(Optional.of("optimized"), s.paths().get(0).anaState());
    assertEquals("live", s.paths().get(1).state());
    assertEquals(Optional.of("inaccessible"), s.paths().get(1).anaState());
    assertEquals(Optional.of(4431), s.paths().get(1).address().trsvcid());
  }

  @Test
  void nvme_list_subsys_with_attribute_lines_and_a_connecting_path() {
    String out = """
        nvme-subsys0 - NQN=nqn.2026-11.io.toma:ld:vol0-m0
                       hostnqn=nqn.2026-11.io.toma:host:ctrl-a
                       iopolicy=numa
        \\
         +- nvme0 tcp traddr=10.0.0.1,trsvcid=4420,src_addr=10.0.0.9 connecting
        nvme-subsys1 - NQN=nqn.2026-11.io.toma:ld:vol0-m1
        \\
         +- nvme1 tcp traddr=10.0.0.2,trsvcid=4420 live
        """;
    List<NvmeListSubsys.Subsystem> subs = NvmeListSubsys.parse(out);
    assertEquals(2, subs.size());
    assertEquals("connecting", subs.get(0).paths().get(0).state());
    assertEquals(Optional.empty(), subs.get(0).paths().get(0).anaState());
    assertEquals("10.0.0.2", subs.get(1).paths().get(0).address().traddr());
  }

  @Test
  void a_sys_address_string_gives_address_and_service_id() {
    FabricAddress a = FabricAddress.parse("traddr=127.0.0.1,trsvcid=4420,src_addr=127.0.0.1\n");
    assertEquals("127.0.0.1", a.traddr());
    assertEquals(Optional.of(4420), a.trsvcid());
    assertEquals("127.0.0.1", a.fields().get("src_addr"));
    assertEquals(Optional.empty(), FabricAddress.parse("traddr=1.2.3.4").trsvcid());
  }

  @Test
  void dmsetup_table_status_and_info_for_every_device() {
    Map<String, List<String>> tables = DmsetupOutput.linesByDevice("""
        toma-vol0: 0 253952 raid raid1 3 0 region_size 1024 2 253:0 253:1 253:2 253:3
        toma-ld-a: 0 262144 linear 251:0 0
        vg0-multi: 0 100 linear 8:0 0
        vg0-multi: 100 100 linear 8:16 0
        """);
    assertEquals(2, tables.get("vg0-multi").size());
    assertEquals("raid", DmsetupOutput.tableLine(tables.get("toma-vol0").get(0)).target());
    assertEquals("251:0 0", DmsetupOutput.tableLine(tables.get("toma-ld-a").get(0)).args());
    assertTrue(DmsetupOutput.linesByDevice("No devices found\n").isEmpty());
    assertEquals(List.of(), DmsetupOutput.linesByDevice("toma-empty: \n").get("toma-empty"));

    Map<String, DmsetupOutput.DmInfo> info = DmsetupOutput.info("""
        Name:              toma-vol0
        State:             SUSPENDED
        Read Ahead:        256
        Tables present:    LIVE & INACTIVE
        Open count:        1
        Event number:      0
        Major, minor:      253, 4
        Number of targets: 1

        Name:              toma-ld-a
        State:             ACTIVE
        Major, minor:      253, 0
        """);
    assertTrue(info.get("toma-vol0").suspended());
    assertEquals(4, info.get("toma-vol0").minor());
    assertFalse(info.get("toma-ld-a").suspended());
    assertEquals(253, info.get("toma-ld-a").major());
  }
}
