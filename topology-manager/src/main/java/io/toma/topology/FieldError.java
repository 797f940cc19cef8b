package io.toma.topology;

import io.toma.persistence.CborSerializable;

/** A request field that is out of range, and why. */
public record FieldError(String field, String message) implements CborSerializable {}
