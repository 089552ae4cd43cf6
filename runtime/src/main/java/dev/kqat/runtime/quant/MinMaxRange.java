package dev.kqat.runtime.quant;

/**
 * Min-max range estimation (algorithms.md §1.1–1.2): the range always contains 0, signedness
 * follows the data's sign, and {@code s = max(|min|, max) / p}.
 */
public final class MinMaxRange {
  private MinMaxRange() {}

  /** Integer range for data with this minimum. */
  public static IntRange intRange(float min, int bits) {
    return min < 0 ? IntRange.signed(bits) : IntRange.unsigned(bits);
  }

  /** Per-channel (or per-tensor when {@code channels == 1}) step sizes. */
  public static float[] scales(float[] x, int bits, int channels) {
    float globalMin = 0f;
    for (float v : x) {
      globalMin = Math.min(globalMin, v);
    }
    return scales(x, intRange(globalMin, bits), channels);
  }

  /** Per-channel step sizes {@code max|x| / p} on a given integer grid. */
  public static float[] scales(float[] x, IntRange range, int channels) {
    float[] absMax = new float[channels];
    for (int i = 0; i < x.length; i++) {
      int c = i % channels;
      absMax[c] = Math.max(absMax[c], Math.abs(x[i]));
    }
    float[] out = new float[channels];
    for (int c = 0; c < channels; c++) {
      out[c] = Math.max(absMax[c], 1e-8f) / range.p();
    }
    return out;
  }
}
