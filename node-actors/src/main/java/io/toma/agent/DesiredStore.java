package io.toma.agent;

import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.datatype.jdk8.Jdk8Module;
import io.toma.kernel.DesiredState;
import io.toma.kernel.KernelException;
import io.toma.kernel.Validation;
import io.toma.kernel.reconcile.AppliedRecord;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;
import java.util.stream.Stream;

/**
 * The node's own durable memory: the newest desired state per volume (one JSON file each) and
 * the {@link AppliedRecord}, in a data directory on the node. It is what lets an agent restarted
 * after a crash know the full desired state before it garbage-collects anything, without asking
 * the control plane. Every write goes to a temporary file, is fsynced, then atomically renamed
 * over the old one (and the directory fsynced), so a crash leaves the old or the new file, never
 * half of one.
 */
public final class DesiredStore {

  /**
   * What the node holds for one volume at a revision. An empty desired state is a tombstone: the
   * volume was removed at that revision, and an older Apply arriving late must not bring it back.
   */
  public record StoredVolume(String volumeId, long revision, Optional<DesiredState> desired) {}

  private static final String SUFFIX = ".json";
  private static final String RECORD = "applied-record.json";

  private final Path volumesDir;
  private final Path recordFile;
  private final ObjectMapper json = new ObjectMapper()
      .registerModule(new Jdk8Module())
      .enable(SerializationFeature.INDENT_OUTPUT)
      .disable(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES);

  public DesiredStore(Path dataDir) {
    this.volumesDir = dataDir.resolve("volumes");
    this.recordFile = dataDir.resolve(RECORD);
  }

  public Map<String, StoredVolume> loadVolumes() throws IOException {
    Files.createDirectories(volumesDir);
    Map<String, StoredVolume> out = new TreeMap<>();
    try (Stream<Path> files = Files.list(volumesDir)) {
      for (Path f : files.sorted().toList()) {
        String name = f.getFileName().toString();
        if (!name.endsWith(SUFFIX)) {
          continue; // a temporary file left by a crash: its rename never happened
        }
        StoredVolume v = json.readValue(f.toFile(), StoredVolume.class);
        out.put(v.volumeId(), v);
      }
    }
    return out;
  }

  public AppliedRecord loadRecord() throws IOException {
    if (!Files.exists(recordFile)) {
      return AppliedRecord.empty();
    }
    return json.readValue(recordFile.toFile(), AppliedRecord.class);
  }

  public void save(StoredVolume volume) throws IOException {
    try {
      Validation.diskId(volume.volumeId()); // it becomes a file name
    } catch (KernelException e) {
      throw new IOException(e.getMessage(), e);
    }
    Files.createDirectories(volumesDir);
    writeAtomically(volumesDir.resolve(volume.volumeId() + SUFFIX), json.writeValueAsBytes(volume));
  }

  public void saveRecord(AppliedRecord record) throws IOException {
    Files.createDirectories(recordFile.getParent());
    writeAtomically(recordFile, json.writeValueAsBytes(record));
  }

  private static void writeAtomically(Path target, byte[] bytes) throws IOException {
    Path dir = target.getParent();
    Path tmp = dir.resolve("." + target.getFileName() + ".tmp");
    try (FileChannel ch = FileChannel.open(tmp, StandardOpenOption.CREATE, StandardOpenOption.WRITE,
        StandardOpenOption.TRUNCATE_EXISTING)) {
      ByteBuffer buf = ByteBuffer.wrap(bytes);
      while (buf.hasRemaining()) {
        ch.write(buf);
      }
      ch.force(true);
    }
    try {
      Files.move(tmp, target, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
    } catch (AtomicMoveNotSupportedException e) {
      Files.move(tmp, target, StandardCopyOption.REPLACE_EXISTING);
    }
    try (FileChannel d = FileChannel.open(dir, StandardOpenOption.READ)) {
      d.force(true); // the rename itself must survive a power cut
    } catch (IOException e) {
      // some file systems refuse to open a directory; the file itself is already synced
    }
  }
}
