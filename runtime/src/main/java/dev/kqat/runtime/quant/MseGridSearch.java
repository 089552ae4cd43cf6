package dev.kqat.runtime.quant;

import java.util.stream.IntStream;

/**
 * MSE grid search for a symmetric quantizer's range (algorithms.md §1.2, 1-D case).
 *
 * <p>The candidate grid is fixed from the first batch: {@code Rmax = max(|min x|, max x) + 0.5}
 * (an absolute margin, as in the reference), {@code K} candidates {@code R_k = k * Rmax / K},
 * {@code k = 1..K}. Signedness is decided on the first batch too: one-sided data ({@code min >= 0})
 * gets the unsigned grid {@code [0, 2^b-1]}. Each candidate's loss is the sum of squared errors,
 * added up over every batch given to {@link #add}; per-channel mode keeps one sum per channel,
 * where the channel of flat element {@code i} is {@code i % channels} (TensorFlow kernels keep
 * output channels last).
 */
public final class MseGridSearch {
  private final int bits;
  private final int candidates;
  private final int channels;
  private double[][] losses; // [candidate][channel]
  private double rangeMax;
  private IntRange intRange;
  private final IntRange fixedRange;

  /**
   * @param bits bit-width
   * @param candidates number of candidates K (reference default 100)
   * @param channels 1 for per-tensor, else the number of output channels
   */
  public MseGridSearch(int bits, int candidates, int channels) {
    this(bits, candidates, channels, null);
  }

  /** As {@link #MseGridSearch(int, int, int)} on a fixed integer grid instead of one chosen by the data's sign. */
  public MseGridSearch(int bits, int candidates, int channels, IntRange fixedRange) {
    if (candidates < 1) {
      throw new IllegalArgumentException("candidates must be >= 1, got " + candidates);
    }
    this.bits = bits;
    this.candidates = candidates;
    this.channels = channels;
    this.fixedRange = fixedRange;
  }

  /** Adds one batch of values to every candidate's squared-error sum. */
  public void add(float[] x) {
    if (x.length == 0) {
      return;
    }
    if (losses == null) {
      float min = Float.POSITIVE_INFINITY;
      float max = Float.NEGATIVE_INFINITY;
      for (float v : x) {
        min = Math.min(min, v);
        max = Math.max(max, v);
      }
      boolean oneSided = min >= 0;
      intRange = fixedRange != null ? fixedRange : oneSided ? IntRange.unsigned(bits) : IntRange.signed(bits);
      rangeMax = Math.max(Math.abs(min), max) + 0.5;
      losses = new double[candidates][channels];
    }
    double step = rangeMax / candidates;
    int n = intRange.n();
    int p = intRange.p();
    IntStream.range(0, candidates)
        .parallel()
        .forEach(
            k -> {
              double s = (k + 1) * step / p;
              double inv = 1.0 / s;
              double[] row = losses[k];
              if (channels == 1) {
                double sum = 0;
                for (float v : x) {
                  double q = s * Math.max(n, Math.min(p, Math.rint(v * inv)));
                  double e = v - q;
                  sum += e * e;
                }
                row[0] += sum;
              } else {
                for (int i = 0; i < x.length; i++) {
                  double q = s * Math.max(n, Math.min(p, Math.rint(x[i] * inv)));
                  double e = x[i] - q;
                  row[i % channels] += e * e;
                }
              }
            });
  }

  /** The integer range chosen from the first batch's sign. */
  public IntRange intRange() {
    requireData();
    return intRange;
  }

  /** Best step size per channel (length 1 in per-tensor mode). */
  public float[] bestScales() {
    requireData();
    double step = rangeMax / candidates;
    float[] out = new float[channels];
    for (int c = 0; c < channels; c++) {
      int best = 0;
      for (int k = 1; k < candidates; k++) {
        if (losses[k][c] < losses[best][c]) {
          best = k;
        }
      }
      out[c] = (float) ((best + 1) * step / intRange.p());
    }
    return out;
  }

  private void requireData() {
    if (losses == null) {
      throw new IllegalStateException("MSE range search has seen no data");
    }
  }
}
