package io.toma.api;

/** The answer to a create: the volume, and whether this call created it (201) or it existed (200). */
public record CreatedVolume(VolumeView volume, boolean created) {}
