package dev.kqat.runtime.quant;

/** How a quantizer's step size is initialised before QAT (algorithms.md §1.2). */
public enum RangeInit {
  /** {@code max(|min|, max) / p} of the calibration data. */
  MIN_MAX,
  /** Grid search minimising the squared quantization error (100 candidates by default). */
  MSE
}
