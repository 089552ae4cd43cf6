package dev.kqat.runtime.quant;


/**
 * Decides per weight layer, and per marked activation point of a transformer, how the network is
 * quantized (architecture.md rule 3: quantization is a policy applied to a model, not a model
 * variant).
 */
@FunctionalInterface
public interface QuantPolicy {
  LayerQuant decide(LayerInfo layer);

  /**
   * The quantizer of an activation point, or null to keep it in floating point (the default).
   *
   * @param name the point's name, e.g. {@code block0/attn/query}; also its quantizer's name
   */
  default QuantizerSpec decide(ActivationPoint point, String name) {
    return null;
  }

  /**
   * The bit-widths a layer of a supernet switches between (its quantizers then hold a step size per
   * bit-width and take their bit-width from the forward pass), or null for a layer of fixed bits.
   */
  default BitRange candidates(LayerInfo layer) {
    return null;
  }

  /** Images per calibration batch; 0: the phase's batch size. */
  default int calibrationImages() {
    return 0;
  }

  /** Everything in floating point. */
  QuantPolicy FLOAT = layer -> LayerQuant.FLOAT;
}
