package io.toma.bench;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;
import java.util.Optional;

/**
 * What the figures were measured on: CPU, cores, memory, JVM, and the load average at the start,
 * because these machines are shared and a figure means little without it.
 */
public record Machine(String cpu, int cores, long memoryMiB, String os, String jvm, long maxHeapMiB, String loadAtStart) {

  public static Machine current() {
    Runtime rt = Runtime.getRuntime();
    return new Machine(
        firstValue(Path.of("/proc/cpuinfo"), "model name").orElse(System.getProperty("os.arch")),
        rt.availableProcessors(),
        firstValue(Path.of("/proc/meminfo"), "MemTotal").map(Machine::kibToMib).orElse(-1L),
        System.getProperty("os.name") + " " + System.getProperty("os.version"),
        System.getProperty("java.vm.name") + " " + System.getProperty("java.version"),
        rt.maxMemory() / (1024 * 1024),
        loadNow());
  }

  /** The 1, 5 and 15 minute load averages now (more than the core count: the machine is busy). */
  public static String loadNow() {
    try {
      String[] parts = Files.readString(Path.of("/proc/loadavg")).trim().split("\\s+");
      return parts[0] + " " + parts[1] + " " + parts[2];
    } catch (IOException | RuntimeException e) {
      return "unknown";
    }
  }

  public String describe() {
    return String.format(Locale.ROOT, "%s, %d cores, %,d MiB RAM, %s, %s (max heap %,d MiB), load average at start %s",
        cpu, cores, memoryMiB, os, jvm, maxHeapMiB, loadAtStart);
  }

  private static long kibToMib(String value) {
    return Long.parseLong(value.replaceAll("[^0-9]", "")) / 1024;
  }

  private static Optional<String> firstValue(Path file, String key) {
    try {
      List<String> lines = Files.readAllLines(file);
      return lines.stream().filter(l -> l.startsWith(key)).findFirst().map(l -> l.substring(l.indexOf(':') + 1).trim());
    } catch (IOException e) {
      return Optional.empty();
    }
  }
}
