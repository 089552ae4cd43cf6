package dev.kqat.runtime.tf;

/**
 * What a graph variable is for; decides its optimizer group, whether it is trained, and whether
 * it crosses from one phase to the next (a phase started from another phase's checkpoint or from
 * imported weights takes the model variables only, {@link #isHandedOver()}).
 */
public enum ParamRole {
  /** Network weights, biases and BN affine parameters: the weight optimizer. */
  WEIGHT,
  /** Learnable quantizer step sizes: the quantizer optimizer. */
  QUANTIZER,
  /** Quantizer settings set from data, not by gradients: integer ranges (signedness), fixed step sizes. */
  QUANTIZER_RANGE,
  /** BN running statistics: not trained by gradients, but part of the model (saved with its weights, imported). */
  BN_STATISTIC,
  /** Optimizer slots and bias-correction powers: belong to one phase's training. */
  OPTIMIZER_SLOT,
  /** Per-phase bookkeeping: oscillation trackers, freezing masks, BN re-estimation accumulators. */
  STATE;

  /** Whether the variable belongs to the network itself rather than to training or quantization. */
  public boolean isModelVariable() {
    return this == WEIGHT || this == BN_STATISTIC;
  }

  /**
   * Whether a phase started from another phase's checkpoint takes this variable: the network and
   * its quantizers (when both phases quantize), never optimizer slots or per-phase state.
   */
  public boolean isHandedOver() {
    return isModelVariable() || this == QUANTIZER || this == QUANTIZER_RANGE;
  }
}
