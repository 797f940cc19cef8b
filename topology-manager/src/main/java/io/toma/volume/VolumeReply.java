package io.toma.volume;

import io.toma.persistence.CborSerializable;
import io.toma.topology.VolumeView;

/** What a VirtualDisk answers to a caller; crosses the cluster, so every case is a concrete record. */
public sealed interface VolumeReply extends CborSerializable {

  record Found(VolumeView volume) implements VolumeReply {}

  record NotFound(String volumeId) implements VolumeReply {}

  record Conflict(String message) implements VolumeReply {}

  record Invalid(String field, String message) implements VolumeReply {}

  record PlacementFailed(String message) implements VolumeReply {}
}
