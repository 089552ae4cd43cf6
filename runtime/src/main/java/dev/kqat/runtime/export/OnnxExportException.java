package dev.kqat.runtime.export;

/** The evaluation graph holds something ONNX export cannot write faithfully; the message says what and where. */
public final class OnnxExportException extends IllegalStateException {
  public OnnxExportException(String message) {
    super(message);
  }
}
