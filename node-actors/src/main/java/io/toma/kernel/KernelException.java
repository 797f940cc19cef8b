package io.toma.kernel;

/** The kernel refused or failed an operation; the message says what and the kernel's own words. */
public class KernelException extends Exception {
  public KernelException(String message) {
    super(message);
  }

  public KernelException(String message, Throwable cause) {
    super(message, cause);
  }
}
