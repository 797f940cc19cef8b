package io.toma.kernel;

import static org.junit.jupiter.api.Assertions.*;

import io.toma.kernel.DesiredState.DmTableLine;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.Test;

class ValidationTest {

  @Test
  void dm_names_must_carry_the_toma_prefix_and_only_path_safe_characters() throws Exception {
    assertEquals("toma-vol1-leg0", Validation.dmName("toma-vol1-leg0"));
    for (String bad : List.of("vol1", "toma-a/b", "toma-..", "toma-a b", "toma-$(id)", "toma-" + "x".repeat(130))) {
      assertThrows(KernelException.class, () -> Validation.dmName(bad), bad);
    }
  }

  @Test
  void nqns_follow_the_nvme_format_and_stop_at_223_bytes() throws Exception {
    String base = Names.NQN_PREFIX + "vol:";
    Validation.tomaNqn(base + "a".repeat(223 - base.length()));
    assertThrows(KernelException.class, () -> Validation.nqn(base + "a".repeat(224 - base.length())));
    Validation.nqn("nqn.2014-08.org.nvmexpress:uuid:11111111-2222-3333-4444-555555555555");
    for (String bad : List.of("nqn.2014-8.org.x:y", "iqn.2014-08.org.x:y", "nqn.2014-08.org:y",
        "nqn.2014-08.org.x:y/../z", "nqn.2014-08.org.x:a b", "nqn.2014-08.org.x:a;b")) {
      assertThrows(KernelException.class, () -> Validation.nqn(bad), bad);
    }
    assertThrows(KernelException.class, () -> Validation.tomaNqn("nqn.2014-08.com.example:foreign"));
  }

  @Test
  void numbers_uuids_and_addresses_are_range_checked() throws Exception {
    Validation.uuid("0d9a4e55-0000-4000-8000-000000000001");
    assertThrows(KernelException.class, () -> Validation.uuid("0d9a4e55-0000-4000-8000"));
    assertThrows(KernelException.class, () -> Validation.portId(0));
    assertThrows(KernelException.class, () -> Validation.serviceId(70000));
    assertThrows(KernelException.class, () -> Validation.anaGroupId(129));
    Validation.address("127.0.0.1");
    Validation.address("fe80::1");
    assertThrows(KernelException.class, () -> Validation.address("300.1.1.1"));
    assertThrows(KernelException.class, () -> Validation.address("host;rm"));
  }

  @Test
  void table_arguments_with_shell_characters_or_parent_paths_are_refused() throws Exception {
    Validation.table("toma-x", List.of(new DmTableLine(0, 8, "linear", "@disk:d0 0")));
    Validation.table("toma-x", List.of(new DmTableLine(0, 8, "raid", "raid1 3 0 region_size 1024 2 - /dev/nvme0n1 - @ns:0d9a4e55-0000-4000-8000-000000000001")));
    for (String bad : List.of("/dev/../etc/passwd 0", "$(reboot) 0", "`id` 0", "/dev/a;b 0", "a'b", "@disk:../x 0", "@dm:other 0")) {
      assertThrows(KernelException.class,
          () -> Validation.table("toma-x", List.of(new DmTableLine(0, 8, "linear", bad))), bad);
    }
    assertThrows(KernelException.class, () -> Validation.table("toma-x", List.of(new DmTableLine(5, 8, "linear", "@disk:d0 0"))));
  }

  @Test
  void a_list_of_operations_is_refused_whole_naming_the_bad_one() {
    List<KernelOp> ops = List.of(new KernelOp.HostCreate(Names.NQN_PREFIX + "host:a"),
        new KernelOp.SubsystemCreate("nqn.2026-11.io.toma:x/../../etc", Optional.empty(), Optional.empty()));
    KernelException e = assertThrows(KernelException.class, () -> Validation.ops(ops));
    assertTrue(e.getMessage().contains("operation 2 of 2"), e.getMessage());
    assertTrue(e.getMessage().contains("nothing applied"), e.getMessage());
  }
}
