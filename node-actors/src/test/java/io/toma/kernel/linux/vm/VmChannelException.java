package io.toma.kernel.linux.vm;

/** The command channel to the VM failed (the VM died, or a script outran its timeout). */
public final class VmChannelException extends RuntimeException {
  VmChannelException(String message) {
    super(message);
  }

  VmChannelException(String message, Throwable cause) {
    super(message, cause);
  }
}
