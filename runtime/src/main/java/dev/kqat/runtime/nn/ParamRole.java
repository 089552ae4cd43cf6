package dev.kqat.runtime.nn;

/** What a graph variable is for; decides its optimizer group and whether it is trained. */
public enum ParamRole {
  /** Network weights, biases and BN affine parameters: the weight optimizer. */
  WEIGHT,
  /** Quantizer step sizes: the quantizer optimizer. */
  QUANTIZER,
  /** Not trained by gradients: BN running statistics, integer ranges, optimizer slots, trackers. */
  STATE
}
