package dev.kqat.runtime.nn;

/** What a graph variable is for; decides its optimizer group and whether it is trained. */
public enum ParamRole {
  /** Network weights, biases and BN affine parameters: the weight optimizer. */
  WEIGHT,
  /** Quantizer step sizes: the quantizer optimizer. */
  QUANTIZER,
  /** BN running statistics: not trained by gradients, but part of the model (saved with its weights, imported). */
  BN_STATISTIC,
  /** Not trained by gradients and not part of the model: integer ranges, optimizer slots, trackers. */
  STATE;

  /** Whether the variable belongs to the network itself rather than to training or quantization. */
  public boolean isModelVariable() {
    return this == WEIGHT || this == BN_STATISTIC;
  }
}
