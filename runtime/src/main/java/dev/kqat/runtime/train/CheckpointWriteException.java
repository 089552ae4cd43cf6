package dev.kqat.runtime.train;

/** A checkpoint could not be written (full disk, unwritable folder); the previous one is intact. */
public final class CheckpointWriteException extends RuntimeException {
  public CheckpointWriteException(String message, Throwable cause) {
    super(message, cause);
  }
}
