package dev.kqat.runtime.quant;

/**
 * A named place in a transformer where a policy may quantize an activation that is not simply one
 * weight layer's input (algorithms.md §3.2). Models mark these points; a policy that quantizes layer
 * inputs leaves them in floating point.
 */
public enum ActivationPoint {
  /** The image entering the patch embedding (VVTQ: 8 bits, DeiT only). */
  PATCH_INPUT,
  /** The normalised tokens entering attention, shared by the Q, K and V projections. */
  ATTENTION_INPUT,
  /** Queries after the split into heads. */
  QUERY,
  /** Keys after the split into heads. */
  KEY,
  /** Values after the split into heads. */
  VALUE,
  /** The softmax output: attention probabilities, in [0, 1]. */
  ATTENTION_PROBABILITIES,
  /** Attention·values, the output projection's input. */
  ATTENTION_OUTPUT,
  /** The normalised tokens entering the MLP (fc1's input). */
  MLP_INPUT,
  /** The GELU output inside the MLP (fc2's input); bounded below by GELU's minimum, about -0.17. */
  MLP_HIDDEN
}
