package dev.kqat.runtime.quant;


/**
 * Decides per weight layer how it is quantized (architecture.md rule 3: quantization is a policy
 * applied to a model, not a model variant).
 */
@FunctionalInterface
public interface QuantPolicy {
  LayerQuant decide(LayerInfo layer);

  /** Everything in floating point. */
  QuantPolicy FLOAT = layer -> LayerQuant.FLOAT;
}
