package io.toma.kernel.linux;

import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Optional;

/**
 * An NVMe-oF controller's address as /sys/class/nvme/nvmeN/address and nvme list-subsys print it:
 * {@code traddr=127.0.0.1,trsvcid=4420,src_addr=127.0.0.1}. Unknown keys are kept, not refused.
 */
public record FabricAddress(Map<String, String> fields) {

  public FabricAddress {
    fields = Map.copyOf(fields);
  }

  public static FabricAddress parse(String text) {
    Map<String, String> f = new LinkedHashMap<>();
    for (String part : text.trim().split(",")) {
      int eq = part.indexOf('=');
      if (eq > 0) {
        f.put(part.substring(0, eq).trim(), part.substring(eq + 1).trim());
      }
    }
    return new FabricAddress(f);
  }

  public String traddr() {
    return fields.getOrDefault("traddr", "");
  }

  /** The service id (port), if present and numeric. */
  public Optional<Integer> trsvcid() {
    try {
      return Optional.of(Integer.parseInt(fields.getOrDefault("trsvcid", "")));
    } catch (NumberFormatException e) {
      return Optional.empty();
    }
  }
}
