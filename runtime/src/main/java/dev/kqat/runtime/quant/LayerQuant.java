package dev.kqat.runtime.quant;

/**
 * A policy's decision for one weight layer; {@code null} means "keep in floating point".
 *
 * @param weight quantizer for the layer's kernel
 * @param input quantizer for the layer's input activations
 */
public record LayerQuant(QuantizerSpec weight, QuantizerSpec input) {
  public static final LayerQuant FLOAT = new LayerQuant(null, null);
}
