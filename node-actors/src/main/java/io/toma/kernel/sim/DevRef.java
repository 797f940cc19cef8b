package io.toma.kernel.sim;

/** A lower device held by a dm table: the object (I/O goes to it) and its major:minor (printed). */
record DevRef(SimBlockDevice device, String majorMinor) {}
