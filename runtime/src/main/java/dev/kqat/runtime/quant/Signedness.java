package dev.kqat.runtime.quant;

/** Whether a quantizer's integer grid is signed, and who decides it. */
public enum Signedness {
  /** Decided at calibration from the data: signed when it holds negative values (OSC, RFQuant). */
  FROM_DATA,
  /** {@code [-2^(b-1), 2^(b-1)-1]} always (VVTQ's default). */
  SIGNED,
  /** {@code [0, 2^b-1]} always (VVTQ's softmax and GELU outputs). */
  UNSIGNED;

  /** The fixed integer range at {@code bits}; only for {@link #SIGNED} and {@link #UNSIGNED}. */
  public IntRange range(int bits) {
    return switch (this) {
      case SIGNED -> IntRange.signed(bits);
      case UNSIGNED -> IntRange.unsigned(bits);
      case FROM_DATA -> throw new IllegalStateException("the range is decided from data at calibration");
    };
  }
}
