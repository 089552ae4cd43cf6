package dev.kqat.runtime.quant;

/** The kinds of weight layers a quantization policy can address. */
public enum LayerKind {
  CONV,
  DEPTHWISE_CONV,
  DENSE
}
