package dev.kqat.runtime.quant;

import java.util.Map;

/**
 * The OSC {@code LSQ_paper} setup (algorithms.md §1.3): every weight layer quantizes its kernel
 * and its input; the first layer keeps its kernel at {@code firstLastBits} and the network input
 * (the image) in floating point; the last layer keeps kernel and input at {@code firstLastBits}.
 * Block outputs and residual sums are covered by the next layer's input quantizer. Named
 * overrides win over all of this.
 *
 * @param weights kernel quantizer for inner layers (null: weights stay FP)
 * @param activations input quantizer for inner layers (null: activations stay FP)
 * @param firstLastBits bits of the first and last layers
 * @param overrides exact layer name to override
 */
public record InputQuantPolicy(
    QuantizerSpec weights,
    QuantizerSpec activations,
    int firstLastBits,
    Map<String, LayerOverride> overrides)
    implements QuantPolicy {

  @Override
  public LayerQuant decide(LayerInfo layer) {
    QuantizerSpec w = weights;
    QuantizerSpec a = activations;
    if (layer.isFirst() || layer.isLast()) {
      w = w == null ? null : w.withBits(firstLastBits);
      a = a == null ? null : a.withBits(firstLastBits);
    }
    if (layer.isFirst()) {
      a = null;
    }
    LayerOverride o = overrides.get(layer.name());
    if (o != null) {
      if (o.floatingPoint()) {
        return LayerQuant.FLOAT;
      }
      if (o.weightBits() != null && w != null) {
        w = w.withBits(o.weightBits());
      }
      if (o.inputBits() != null && a != null) {
        a = a.withBits(o.inputBits());
      }
    }
    return new LayerQuant(w, a);
  }
}
