package dev.kqat.runtime.quant;

/** How a quantizer's step size is initialised before QAT (algorithms.md §1.2, §3.1). */
public enum RangeInit {
  /** {@code max(|min|, max) / p} of the calibration data. */
  MIN_MAX,
  /** Grid search minimising the squared quantization error (100 candidates by default). */
  MSE,
  /**
   * VVTQ's weight init: the iterative least-squares fit {@code s = <w,c>/<c,c>}, {@code c =
   * rint(clamp(w/s, n, p))}, from {@code max|w|/p} until the step moves by less than 1e-5 of itself.
   */
  LEAST_SQUARES,
  /** VVTQ's activation init: {@code 2·mean|x| / sqrt(2^(b-1)-1)} (the signed p, also for unsigned grids). */
  MEAN_MAGNITUDE,
  /** LSQ's init as RFQuant applies it to activations: {@code 2·mean|x| / sqrt(p)}, the grid's own p (§2.3). */
  LSQ_MAGNITUDE,
  /** RFQuant's weight init: {@code max(|μ-3σ|, |μ+3σ|) / 2^(b-1)} of the whole tensor (§2.3). */
  THREE_SIGMA
}
