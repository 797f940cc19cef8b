package io.toma.kernel.linux.vm;

import io.toma.kernel.linux.vm.QemuAvailability.Available;
import io.toma.kernel.linux.vm.QemuAvailability.Unavailable;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.SocketTimeoutException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.time.LocalDateTime;
import java.time.format.DateTimeFormatter;
import java.util.List;
import java.util.Optional;
import java.util.OptionalInt;
import java.util.concurrent.TimeUnit;

/**
 * A Debian kernel booted under qemu (TCG) for tests: busybox userland, dmsetup, nvme-cli, the
 * nvmet/nvme-tcp/dm-raid modules loaded, configfs mounted, and {@code K} memory-backed null_blk
 * disks {@code /dev/nullb0..K-1} of {@code S} MiB standing for the nodes' physical disks.
 *
 * <p>{@link #exec(String)} runs a POSIX sh script in the VM and returns its exit status, stdout
 * and stderr. Requests are independent TCP connections, so several may run at once (e.g. a
 * writer in one thread while another fails a path over). Boot costs seconds: share one VM per
 * test class ({@link RealKernel} does).
 *
 * <pre>{@code
 * try (QemuVm vm = QemuVm.start(QemuVm.Options.defaults().withDisks(4, 256))) {
 *   VmResult r = vm.exec("cat /sys/block/nullb0/size");
 *   vm.run("dmsetup create toma-x --table '0 2048 linear /dev/nullb0 0'"); // throws with dmesg on failure
 *   String log = vm.dmesg();
 * }
 * }</pre>
 */
public final class QemuVm implements AutoCloseable {

  /**
   * How to boot: {@code disks} null_blk disks of {@code diskSizeMb} MiB each; guest memory (by
   * default enough for the disks to be filled); vCPUs; how long boot and each script may take;
   * the console log level (kernel messages up to it also land in the console log file).
   */
  public record Options(
      int disks,
      int diskSizeMb,
      OptionalInt memoryOverrideMb,
      int cpus,
      Duration bootTimeout,
      Duration execTimeout,
      int consoleLogLevel,
      Duration idlePowerOff,
      List<VmLink> links) {

    public Options {
      if (disks < 0 || disks > 64) {
        throw new IllegalArgumentException("disks must be 0..64, was " + disks);
      }
      if (diskSizeMb < 1) {
        throw new IllegalArgumentException("diskSizeMb must be positive, was " + diskSizeMb);
      }
      if (cpus < 1) {
        throw new IllegalArgumentException("cpus must be positive, was " + cpus);
      }
      if (idlePowerOff.compareTo(execTimeout) <= 0) {
        throw new IllegalArgumentException("idlePowerOff must outlast execTimeout");
      }
      links = List.copyOf(links);
    }

    /**
     * Two 128 MiB disks, 2 vCPUs, 2 min to boot (TCG on a loaded machine), 2 min a script; the
     * guest powers itself off after 10 min without a request (a leaked VM does not live on).
     */
    public static Options defaults() {
      return new Options(2, 128, OptionalInt.empty(), 2, Duration.ofMinutes(2), Duration.ofMinutes(2), 5,
          Duration.ofMinutes(10), List.of());
    }

    public Options withDisks(int count, int sizeMb) {
      return new Options(count, sizeMb, memoryOverrideMb, cpus, bootTimeout, execTimeout, consoleLogLevel, idlePowerOff, links);
    }

    public Options withMemoryMb(int memoryMb) {
      return new Options(disks, diskSizeMb, OptionalInt.of(memoryMb), cpus, bootTimeout, execTimeout, consoleLogLevel, idlePowerOff, links);
    }

    public Options withCpus(int count) {
      return new Options(disks, diskSizeMb, memoryOverrideMb, count, bootTimeout, execTimeout, consoleLogLevel, idlePowerOff, links);
    }

    public Options withExecTimeout(Duration timeout) {
      // The guest must not power off under a long script: keep the idle limit beyond it.
      Duration idle = idlePowerOff.compareTo(timeout) > 0 ? idlePowerOff : timeout.plusMinutes(5);
      return new Options(disks, diskSizeMb, memoryOverrideMb, cpus, bootTimeout, timeout, consoleLogLevel, idle, links);
    }

    public Options withBootTimeout(Duration timeout) {
      return new Options(disks, diskSizeMb, memoryOverrideMb, cpus, timeout, execTimeout, consoleLogLevel, idlePowerOff, links);
    }

    public Options withIdlePowerOff(Duration idle) {
      return new Options(disks, diskSizeMb, memoryOverrideMb, cpus, bootTimeout, execTimeout, consoleLogLevel, idle, links);
    }

    /**
     * Extra network links to other VMs (point-to-point Ethernet carried over UDP on the host's
     * loopback), for scenarios where nodes must live in different kernels.
     */
    public Options withLinks(List<VmLink> links) {
      return new Options(disks, diskSizeMb, memoryOverrideMb, cpus, bootTimeout, execTimeout, consoleLogLevel, idlePowerOff, links);
    }

    /** Guest RAM: the override, else 512 MiB for the kernel and tools plus room for every disk full. */
    public int memoryMb() {
      return memoryOverrideMb.orElse(512 + disks * diskSizeMb);
    }
  }

  private static final Duration POLL_INTERVAL = Duration.ofMillis(100);
  /** What tools/qemu/guest/rcS prints on the console when it is done (failed steps included). */
  private static final String SETUP_DONE = "toma-vm: setup done";
  private static final int DMESG_TAIL_LINES = 40;

  private final Process process;
  private final VmChannel channel;
  private final Path consoleLog;
  private final Path qemuLog;
  private final VmImage image;
  private final Options options;
  private final Thread shutdownHook;
  private Duration bootTime = Duration.ZERO;

  private QemuVm(Process process, VmChannel channel, Path consoleLog, Path qemuLog, VmImage image, Options options) {
    this.process = process;
    this.channel = channel;
    this.consoleLog = consoleLog;
    this.qemuLog = qemuLog;
    this.image = image;
    this.options = options;
    // A JVM that exits without closing the VM (a crashed test run) must not leave qemu behind;
    // for the kill -9 case the guest powers itself off after options.idlePowerOff() unused.
    this.shutdownHook = new Thread(process::destroyForcibly, "qemu-vm-reaper");
    Runtime.getRuntime().addShutdownHook(shutdownHook);
  }

  /**
   * Builds the boot image if needed (cached), boots it and waits until the command channel
   * answers and the guest's setup succeeded.
   *
   * @throws IllegalStateException if this machine cannot run the VM ({@link QemuAvailability}
   *     says why) or the boot failed (the message holds qemu's output and the console log)
   */
  public static QemuVm start(Options options) {
    QemuAvailability.Result availability = QemuAvailability.check();
    if (availability instanceof Unavailable unavailable) {
      throw new IllegalStateException("cannot boot the test VM: " + unavailable.reason());
    }
    Path qemu = ((Available) availability).qemu();
    VmImage image = VmImage.ensureBuilt();
    Path logs = VmImage.cacheDir().resolve("logs");
    try {
      Files.createDirectories(logs);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    // The free port is picked here and bound by qemu a moment later; if another process took it
    // in between, qemu refuses to start and we try another one.
    IllegalStateException lastPortFailure = null;
    for (int attempt = 0; attempt < 3; attempt++) {
      int port = freeLoopbackPort();
      String id = LocalDateTime.now().format(DateTimeFormatter.ofPattern("yyyyMMdd-HHmmss")) + "-" + port;
      Path console = logs.resolve(id + "-console.log");
      Path qemuOut = logs.resolve(id + "-qemu.log");
      Instant started = Instant.now();
      Process process;
      try {
        process = new ProcessBuilder(QemuCommandLine.build(qemu, image, options, port, console))
            .redirectErrorStream(true)
            .redirectOutput(qemuOut.toFile())
            .start();
      } catch (IOException e) {
        throw new IllegalStateException("cannot start " + qemu + ": " + e.getMessage(), e);
      }
      QemuVm vm = new QemuVm(process, new VmChannel(port), console, qemuOut, image, options);
      try {
        vm.awaitReady(started.plus(options.bootTimeout()));
        vm.bootTime = Duration.between(started, Instant.now());
        return vm;
      } catch (PortTakenException e) {
        vm.close();
        lastPortFailure = e;
      } catch (RuntimeException e) {
        vm.close();
        throw e;
      }
    }
    throw lastPortFailure;
  }

  /** Runs {@code script} with {@code sh} in the VM (cwd {@code /}, stdin empty) and waits for it. */
  public VmResult exec(String script) {
    return exec(script, options.execTimeout());
  }

  public VmResult exec(String script, Duration timeout) {
    try {
      return channel.tryExec(script, timeout).orElseThrow(
          () -> new VmChannelException("the VM closed the channel without answering" + deathNotice()));
    } catch (SocketTimeoutException e) {
      throw new VmChannelException("the script did not finish within " + timeout + " (it may still run in the VM):\n"
          + excerpt(script) + deathNotice(), e);
    } catch (IOException e) {
      throw new VmChannelException("the command channel failed: " + e.getMessage() + deathNotice(), e);
    }
  }

  /** Runs one command given as argv (each word quoted for the shell). */
  public VmResult exec(List<String> argv) {
    return exec(ShellQuote.command(argv));
  }

  /**
   * Runs {@code script} and insists it succeeds: on a non-zero exit, throws with the script, its
   * output and the tail of the kernel log, which is where dm and nvmet explain a refusal.
   */
  public VmResult run(String script) {
    VmResult result = exec(script);
    if (!result.succeeded()) {
      throw new VmScriptFailedException(script, result, dmesgTail());
    }
    return result;
  }

  /** The whole kernel log of the VM. */
  public String dmesg() {
    return exec("dmesg").stdout();
  }

  /**
   * The last lines of the kernel log, for failure messages. Never throws: when the channel is
   * gone (the guest panicked), the console log's tail stands in.
   */
  public String dmesgTail() {
    try {
      VmResult r = exec("dmesg | tail -n " + DMESG_TAIL_LINES, Duration.ofSeconds(30));
      if (r.succeeded()) {
        return r.stdout();
      }
    } catch (RuntimeException e) {
      // fall through to the console log
    }
    return "(channel unavailable; console log tail)\n" + tail(consoleLog(), DMESG_TAIL_LINES);
  }

  /** Everything the guest printed on its serial console (boot messages, kernel warnings, panics). */
  public String consoleLog() {
    return readQuietly(consoleLog);
  }

  public Path consoleLogFile() {
    return consoleLog;
  }

  public String kernelVersion() {
    return image.kernelVersion();
  }

  /** From starting qemu to the channel answering with the guest's setup done. */
  public Duration bootTime() {
    return bootTime;
  }

  public Options options() {
    return options;
  }

  public boolean isAlive() {
    return process.isAlive();
  }

  /** Powers the VM off (kills qemu; everything in it lived in RAM). Idempotent. */
  @Override
  public void close() {
    try {
      if (process.isAlive()) {
        process.destroy();
        if (!process.waitFor(10, TimeUnit.SECONDS)) {
          process.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
        }
      }
    } catch (InterruptedException e) {
      process.destroyForcibly();
      Thread.currentThread().interrupt();
    } finally {
      try {
        Runtime.getRuntime().removeShutdownHook(shutdownHook);
      } catch (IllegalStateException e) {
        // the JVM is already shutting down: the hook runs anyway
      }
    }
  }

  private void awaitReady(Instant deadline) {
    String probe = "if [ -e /run/toma-boot.failed ]; then cat /run/toma-boot.log; exit 1; fi";
    while (Instant.now().isBefore(deadline)) {
      if (!process.isAlive()) {
        String out = readQuietly(qemuLog);
        if (out.contains("Could not set up host forwarding rule")) {
          throw new PortTakenException(out);
        }
        throw new IllegalStateException("qemu exited with " + process.exitValue() + " before the VM was ready.\n"
            + "qemu: " + out + "\nconsole (" + consoleLog + "):\n" + tail(consoleLog(), 60));
      }
      // Probe only once the guest said its setup is done: before its NIC is up, qemu's user
      // network keeps retrying the connection with TCP backoff and the first answer comes late.
      Optional<VmResult> answer = Optional.empty();
      try {
        if (consoleLog().contains(SETUP_DONE)) {
          answer = channel.tryExec(probe, Duration.ofSeconds(30));
        }
      } catch (IOException e) {
        answer = Optional.empty(); // the channel's listener is not up yet
      }
      if (answer.isPresent()) {
        if (answer.get().succeeded()) {
          return;
        }
        throw new IllegalStateException("the VM booted but its setup failed:\n" + answer.get().stdout()
            + "\nkernel log tail:\n" + dmesgTail());
      }
      try {
        Thread.sleep(POLL_INTERVAL.toMillis()); // polling a booting VM, not timing a test assertion
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw new IllegalStateException("interrupted while waiting for the VM", e);
      }
    }
    throw new IllegalStateException("the VM did not answer within " + options.bootTimeout()
        + " of starting qemu.\nconsole (" + consoleLog + "):\n" + tail(consoleLog(), 60));
  }

  private String deathNotice() {
    if (process.isAlive()) {
      return "";
    }
    return "\nqemu has exited (" + process.exitValue() + "); console tail:\n" + tail(consoleLog(), DMESG_TAIL_LINES);
  }

  private static int freeLoopbackPort() {
    try (ServerSocket socket = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
      return socket.getLocalPort();
    } catch (IOException e) {
      throw new UncheckedIOException("no free loopback port", e);
    }
  }

  private static String readQuietly(Path file) {
    try {
      return Files.exists(file) ? Files.readString(file, StandardCharsets.ISO_8859_1) : "";
    } catch (IOException e) {
      return "(cannot read " + file + ": " + e.getMessage() + ")";
    }
  }

  static String tail(String text, int lines) {
    List<String> all = text.lines().toList();
    return String.join("\n", all.subList(Math.max(0, all.size() - lines), all.size()));
  }

  static String excerpt(String script) {
    return script.length() <= 2_000 ? script : script.substring(0, 2_000) + "\n... (" + script.length() + " chars)";
  }

  /** qemu could not bind the channel port: another process took it after we picked it. */
  private static final class PortTakenException extends IllegalStateException {
    PortTakenException(String qemuOutput) {
      super("channel port already taken: " + qemuOutput);
    }
  }
}
