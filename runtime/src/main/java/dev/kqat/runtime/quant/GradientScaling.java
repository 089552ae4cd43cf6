package dev.kqat.runtime.quant;

/**
 * The factor {@code g} that multiplies the step size's gradient (algorithms.md §0.2); identity in the
 * forward pass. The three methods differ here.
 */
public enum GradientScaling {
  /** {@code g = 1}: OSC's and RFQuant's shipped default. */
  OFF,
  /** LSQ's {@code g = 1/sqrt(p·N)}, N the elements per step size (OSC {@code --grad-scaling}, RFQuant template). */
  LSQ,
  /**
   * VVTQ's: {@code g = 1/sqrt(p·Σ|W|)} for a kernel (the sum of magnitudes, not the count) and
   * {@code g = 1/(sqrt(numel)·p)} for an activation.
   */
  VVTQ
}
