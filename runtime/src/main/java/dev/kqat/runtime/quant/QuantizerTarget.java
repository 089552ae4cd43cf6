package dev.kqat.runtime.quant;

/** What a quantizer quantizes; decides calibration (a kernel is the same in every batch) and reporting. */
public enum QuantizerTarget {
  /** A layer's kernel. */
  WEIGHT,
  /** A layer's input activation. */
  ACTIVATION
}
