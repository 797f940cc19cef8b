package io.toma.kernel.linux;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

/** HostIo on this machine: java.nio for files, ProcessBuilder argument lists for commands. */
public final class LocalHostIo implements HostIo {
  private final long execTimeoutSeconds;

  public LocalHostIo(long execTimeoutSeconds) {
    this.execTimeoutSeconds = execTimeoutSeconds;
  }

  public LocalHostIo() {
    this(120);
  }

  @Override
  public void write(String path, String text) throws IOException {
    // configfs and sysfs attributes take one write(2) of the whole value: no truncate, no append.
    Files.writeString(Path.of(path), text, StandardCharsets.UTF_8, StandardOpenOption.WRITE);
  }

  @Override
  public String read(String path) throws IOException {
    return Files.readString(Path.of(path), StandardCharsets.UTF_8);
  }

  @Override
  public void mkdir(String path) throws IOException {
    Files.createDirectory(Path.of(path));
  }

  @Override
  public void rmdir(String path) throws IOException {
    Path p = Path.of(path);
    if (!Files.isDirectory(p, LinkOption.NOFOLLOW_LINKS)) {
      throw new IOException("not a directory: " + path);
    }
    Files.delete(p);
  }

  @Override
  public void symlink(String target, String link) throws IOException {
    Files.createSymbolicLink(Path.of(link), Path.of(target));
  }

  @Override
  public void unlink(String path) throws IOException {
    Path p = Path.of(path);
    if (Files.isDirectory(p, LinkOption.NOFOLLOW_LINKS)) {
      throw new IOException("is a directory, not a link or file: " + path);
    }
    Files.delete(p);
  }

  @Override
  public List<String> list(String dir) throws IOException {
    Path p = Path.of(dir);
    if (!Files.isDirectory(p)) {
      return List.of();
    }
    try (Stream<Path> s = Files.list(p)) {
      return s.map(x -> x.getFileName().toString()).sorted().toList();
    } catch (NoSuchFileException e) {
      return List.of();
    }
  }

  @Override
  public boolean exists(String path) {
    return Files.exists(Path.of(path), LinkOption.NOFOLLOW_LINKS);
  }

  @Override
  public String readLink(String path) throws IOException {
    return Files.readSymbolicLink(Path.of(path)).toString();
  }

  @Override
  public ExecResult exec(List<String> argv) throws IOException {
    Process process = new ProcessBuilder(new ArrayList<>(argv)).redirectInput(ProcessBuilder.Redirect.PIPE).start();
    process.getOutputStream().close();
    CompletableFuture<String> out = drain(process.getInputStream());
    CompletableFuture<String> err = drain(process.getErrorStream());
    try {
      if (!process.waitFor(execTimeoutSeconds, TimeUnit.SECONDS)) {
        process.destroyForcibly();
        throw new IOException(argv.get(0) + " did not finish within " + execTimeoutSeconds + " s");
      }
      return new ExecResult(process.exitValue(), out.get(), err.get());
    } catch (InterruptedException e) {
      process.destroyForcibly();
      Thread.currentThread().interrupt();
      throw new IOException("interrupted while running " + argv.get(0), e);
    } catch (ExecutionException e) {
      throw new IOException("could not read the output of " + argv.get(0), e);
    }
  }

  private static CompletableFuture<String> drain(InputStream in) {
    return CompletableFuture.supplyAsync(() -> {
      try (in) {
        return new String(in.readAllBytes(), StandardCharsets.UTF_8);
      } catch (IOException e) {
        return "";
      }
    });
  }
}
