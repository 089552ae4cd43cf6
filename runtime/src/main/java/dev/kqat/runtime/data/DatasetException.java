package dev.kqat.runtime.data;

/** A dataset that is missing, unreadable or malformed; the message names the file. */
public final class DatasetException extends RuntimeException {
  public DatasetException(String message) {
    super(message);
  }

  public DatasetException(String message, Throwable cause) {
    super(message, cause);
  }
}
