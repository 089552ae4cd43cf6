package dev.kqat.runtime.quant;

import dev.kqat.runtime.settings.Settings;

/**
 * The integer clamp range {@code [n, p]} of a quantizer (algorithms.md §0).
 *
 * @param n smallest integer level
 * @param p largest integer level
 */
public record IntRange(int n, int p) {
  public IntRange {
    if (n >= p) {
      throw new IllegalArgumentException("integer range needs n < p, got [" + n + ", " + p + "]");
    }
  }

  /** Signed, full: {@code [-2^(b-1), 2^(b-1)-1]}. */
  public static IntRange signed(int bits) {
    checkBits(bits);
    return new IntRange(-(1 << (bits - 1)), (1 << (bits - 1)) - 1);
  }

  /** Unsigned: {@code [0, 2^b-1]}. */
  public static IntRange unsigned(int bits) {
    checkBits(bits);
    return new IntRange(0, (1 << bits) - 1);
  }

  /** Number of representable levels. */
  public int levels() {
    return p - n + 1;
  }

  private static void checkBits(int bits) {
    new Settings.Problems().bits("bits", bits).toMap().forEach((field, message) -> {
      throw new IllegalArgumentException(message);
    });
  }
}
