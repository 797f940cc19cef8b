package io.toma.disk;

import io.toma.topology.DiskFacts;
import java.util.Set;

/**
 * Where a PhysicalDisk entity tells what changed: the capacity view (free bytes, health) and the
 * volumes that used a disk that was lost. An interface so the entity stays testable alone.
 */
public interface DiskObserver {

  void changed(DiskFacts facts);

  void lost(String diskId, Set<String> volumeIds, String reason);

  DiskObserver NONE =
      new DiskObserver() {
        @Override
        public void changed(DiskFacts facts) {}

        @Override
        public void lost(String diskId, Set<String> volumeIds, String reason) {}
      };
}
