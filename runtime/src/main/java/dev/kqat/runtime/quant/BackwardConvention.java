package dev.kqat.runtime.quant;

/** The two straight-through conventions of algorithms.md §0.1; they differ at the clamp edges. */
public enum BackwardConvention {
  /** OSC: {@code clamp(round(x/s), n, p)}; input gradient passes while the rounded value is in range. */
  ROUND_THEN_CLAMP,
  /** LSQ, RFQuant, VVTQ: {@code round(clamp(x/s, n, p))}; input gradient passes while x/s is in range. */
  CLAMP_THEN_ROUND
}
