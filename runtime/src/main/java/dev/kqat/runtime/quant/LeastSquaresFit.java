package dev.kqat.runtime.quant;

/**
 * VVTQ's weight step-size init (algorithms.md §3.1): the step that makes {@code s·c} the
 * least-squares fit of {@code w} for its own integer codes, found by fixed-point iteration from
 * {@code s0 = max|w|/p}: {@code c = rint(clamp(w/s, n, p))}, {@code s = <w,c>/<c,c>}, until
 * {@code |Δs/s| < 1e-5}. Per-channel mode fits each channel {@code i % channels} on its own.
 */
public final class LeastSquaresFit {
  /** Relative change of the step below which the iteration stops (the reference's). */
  static final double TOLERANCE = 1e-5;
  /** The reference iterates without bound; a cycle between two codes would never end here. */
  static final int MAX_ITERATIONS = 1000;

  private LeastSquaresFit() {}

  /** One step size per channel of {@code x} on the integer grid {@code range}. */
  public static float[] steps(float[] x, IntRange range, int channels) {
    float[] out = new float[channels];
    for (int c = 0; c < channels; c++) {
      out[c] = step(x, c, channels, range);
    }
    return out;
  }

  private static float step(float[] x, int channel, int channels, IntRange range) {
    double absMax = 0;
    for (int i = channel; i < x.length; i += channels) {
      absMax = Math.max(absMax, Math.abs(x[i]));
    }
    if (absMax == 0) {
      return 1e-8f; // an all-zero tensor is exact on any grid
    }
    double s = absMax / range.p();
    for (int it = 0; it < MAX_ITERATIONS; it++) {
      double wc = 0;
      double cc = 0;
      for (int i = channel; i < x.length; i += channels) {
        double code = Math.rint(Math.max(range.n(), Math.min(range.p(), x[i] / s)));
        wc += x[i] * code;
        cc += code * code;
      }
      double next = wc / cc;
      boolean settled = Math.abs((next - s) / next) < TOLERANCE;
      s = next;
      if (settled) {
        break;
      }
    }
    return (float) s;
  }
}
