package io.toma.persistence;

/**
 * Marker for everything that is persisted (events, snapshots) or must stay readable
 * across versions: bound to Jackson CBOR in reference.conf.
 */
public interface CborSerializable {}
