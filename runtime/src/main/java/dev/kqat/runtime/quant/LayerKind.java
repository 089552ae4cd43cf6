package dev.kqat.runtime.quant;

/** The kinds of weight layers a quantization policy can address. */
public enum LayerKind {
  CONV,
  DEPTHWISE_CONV,
  DENSE,
  /** Swin's patch merging: a dense layer over 2×2 merged tokens (VVTQ keeps its kernel at 8 bits). */
  PATCH_MERGING
}
