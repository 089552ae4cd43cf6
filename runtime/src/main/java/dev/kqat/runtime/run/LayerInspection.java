package dev.kqat.runtime.run;

import dev.kqat.runtime.events.OscillationMetrics;
import dev.kqat.runtime.quant.LayerCost;

/**
 * One weight layer of a phase's network as its variables hold it now: what it costs, how its
 * kernel and its input are quantized, and how its weights oscillate.
 *
 * @param weight the kernel's quantizer; null when the kernel stays floating point
 * @param activation the input's quantizer; null when the input stays floating point
 * @param oscillation the kernel's tracker figures; null without tracking
 */
public record LayerInspection(LayerCost cost, QuantizerState weight, QuantizerState activation,
    OscillationMetrics.Layer oscillation) {

  /**
   * A quantizer's state.
   *
   * @param signed whether its integer grid holds negative values (decided from data at calibration)
   * @param minStep the smallest of its step sizes (one per channel when per-channel)
   * @param maxStep the largest
   */
  public record QuantizerState(String name, int bits, boolean signed, boolean perChannel, double minStep,
      double maxStep) {}

  public int weightBits() {
    return weight == null ? LayerCost.FLOAT_BITS : weight.bits();
  }

  public int activationBits() {
    return activation == null ? LayerCost.FLOAT_BITS : activation.bits();
  }

  /** Bit operations per image at the layer's bit-widths (algorithms.md §2.9). */
  public double bitOps() {
    return cost.bitOps(weightBits(), activationBits());
  }

  /** Bits of the kernel at its weight bit-width. */
  public long sizeBits() {
    return cost.sizeBits(weightBits());
  }
}
