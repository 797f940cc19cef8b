package io.toma.api;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;

class SizesAndIdentifiersTest {

  @ParameterizedTest(name = "{0} is {1} bytes")
  @CsvSource({"1048576, 1048576", "1MiB, 1048576", "1024KiB, 1048576", "100GiB, 107374182400",
      "2TiB, 2199023255552", "'3 GiB', 3221225472", "8388607TiB, 9223370937343148032"})
  void sizes_in_bytes_and_binary_units_are_understood(String text, long bytes) {
    assertEquals(ApiResult.ok(bytes), Sizes.parse("size", text));
  }

  @ParameterizedTest(name = "{0} is refused")
  @ValueSource(strings = {"", "GiB", "100GB", "1.5GiB", "-1GiB", "100gib", "8388608TiB", "99999999999999999999999",
      "1000", "1048577", "0", "0x100000", "1e9"})
  void sizes_that_are_not_whole_sector_multiples_in_range_are_refused(String text) {
    assertInstanceOf(ApiResult.Invalid.class, Sizes.parse("size", text));
  }

  @Test
  void sizes_are_shown_in_binary_units() {
    assertEquals("100 GiB", Sizes.human(100L << 30));
    assertEquals("1.5 GiB", Sizes.human(3L << 29));
    assertEquals("512 B", Sizes.human(512));
  }

  @ParameterizedTest(name = "host NQN {0} is accepted")
  @ValueSource(strings = {"nqn.2014-08.org.nvmexpress:uuid:6f1c2a52-8c1e-4b8a-9f0e-1c2d3e4f5a6b",
      "nqn.2024-01.io.toma:host-1", "nqn.2016-06.io.spdk:cnode1"})
  void well_formed_host_nqns_are_accepted(String nqn) {
    assertEquals(ApiResult.ok(nqn), Identifiers.hostNqn("hostNqn", nqn));
  }

  @ParameterizedTest(name = "host NQN {0} is refused")
  @ValueSource(strings = {"", "host1", "nqn.14-08.org.x:h", "nqn.2014-00.org.x:h", "nqn.2014-08.org.x", "nqn.2014-08.Org.x:h",
      "nqn.2014-08.org.x:", "nqn.2014-08.org.x:a b", "nqn.2014-08.org.x:a/b", "nqn.2014-08..x:h", "nqn.2014-08.org.x:\u00e9"})
  void malformed_host_nqns_are_refused(String nqn) {
    assertInstanceOf(ApiResult.Invalid.class, Identifiers.hostNqn("hostNqn", nqn));
  }

  @ParameterizedTest(name = "volume name {0} is accepted")
  @ValueSource(strings = {"db1", "a", "pg-data_2.wal", "0"})
  void plain_volume_names_are_accepted(String name) {
    assertEquals(ApiResult.ok(name), Identifiers.volumeName("name", name));
  }

  @ParameterizedTest(name = "volume name {0} is refused")
  @ValueSource(strings = {"", "-db", "db-", "DB", "a b", "a/b", "caf\u00e9", "db;rm"})
  void volume_names_outside_the_safe_alphabet_are_refused(String name) {
    assertInstanceOf(ApiResult.Invalid.class, Identifiers.volumeName("name", name));
  }
}
