package io.toma.persistence;

/**
 * Marker for cluster messages that are never persisted and only need a fast, compact wire
 * format between nodes of the same version: bound to the Kryo serializer in reference.conf.
 */
public interface KryoSerializable {}
