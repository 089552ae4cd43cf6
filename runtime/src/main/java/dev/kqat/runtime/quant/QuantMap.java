package dev.kqat.runtime.quant;

/** Where a {@link QuantizationPolicy} puts the activation quantizers. */
public enum QuantMap {
  /**
   * OSC's {@code LSQ_paper} setup (algorithms.md §1.3): every weight layer quantizes its input;
   * block outputs and residual sums are covered by the next layer's input quantizer.
   */
  LAYER_INPUTS,
  /**
   * VVTQ's module-dependent map (§3.2) for transformers: activations at the marked
   * {@link ActivationPoint}s (attention input; q, k, v; softmax output unsigned; attention·v; MLP
   * input; GELU output unsigned with an offset), kernels of Q, K, V, projection, fc1, fc2 at the
   * policy's bits; patch embedding, head and Swin's patch merging at {@code firstLastBits}.
   */
  VVTQ
}
