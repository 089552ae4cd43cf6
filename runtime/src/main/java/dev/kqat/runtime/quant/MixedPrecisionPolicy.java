package dev.kqat.runtime.quant;

import dev.kqat.runtime.settings.Settings;
import java.util.Map;

/**
 * RFQuant's supernet quantization (algorithms.md §2.2–2.3): every weight layer quantizes its kernel
 * and its input with a step size per bit-width; inner layers switch between {@code candidates}
 * (depth-wise ones from {@code depthwiseLowest}) as each forward pass says, the first and last layers
 * stay at {@code fixedBits} (the first keeps the image in floating point). Weights: signed, per tensor,
 * clamp-then-round, {@code max(|μ-3σ|, |μ+3σ|)/2^(b-1)} init; inputs: LSQ's {@code 2·mean|x|/√p} init,
 * signed where calibration meets negative values (the reference's "remap" lists those layers by hand:
 * the inputs of MobileNet blocks' first point-wise convs and the final 1×1 conv, which are exactly the
 * signed ones), else unsigned. No step-size gradient scaling, as the shipped configs.
 *
 * @param candidates bit-widths of the inner layers (reference: 6..2)
 * @param depthwiseLowest lowest bit-width of depth-wise layers (reference: 3)
 * @param fixedBits bits of the first and last layers (reference: 8)
 */
public record MixedPrecisionPolicy(BitRange candidates, int depthwiseLowest, int fixedBits)
    implements QuantPolicy, Settings {

  /** The reference's 6..2, depth-wise 6..3, 8-bit ends, one calibration batch. */
  public static final MixedPrecisionPolicy DEFAULT = new MixedPrecisionPolicy(new BitRange(2, 6), 3, 8);

  /** The weight quantizer at {@code bits}: a step size per bit-width, 3σ init. */
  public static QuantizerSpec weights(int bits) {
    return new QuantizerSpec(bits, false, BackwardConvention.CLAMP_THEN_ROUND, GradientScaling.OFF, RangeInit.THREE_SIGMA,
        QuantizerSpec.DEFAULT_CANDIDATES, true, Signedness.SIGNED, false, true);
  }

  /** The input quantizer at {@code bits}: a step size per bit-width, LSQ init, signedness from data. */
  public static QuantizerSpec activations(int bits) {
    return new QuantizerSpec(bits, false, BackwardConvention.CLAMP_THEN_ROUND, GradientScaling.OFF,
        RangeInit.LSQ_MAGNITUDE, QuantizerSpec.DEFAULT_CANDIDATES, true, Signedness.FROM_DATA, false, true);
  }

  @Override
  public BitRange candidates(LayerInfo layer) {
    if (layer.isFirst() || layer.isLast()) {
      return null;
    }
    return layer.kind() == LayerKind.DEPTHWISE_CONV
        ? new BitRange(Math.max(candidates.lowest(), depthwiseLowest), candidates.highest()) : candidates;
  }

  @Override
  public LayerQuant decide(LayerInfo layer) {
    BitRange range = candidates(layer);
    int bits = range == null ? fixedBits : range.highest();
    return new LayerQuant(weights(bits), layer.isFirst() ? null : activations(bits));
  }

  @Override
  public Map<String, String> problems() {
    return new Problems()
        .check(candidates != null, "candidates", "must be a range such as 6 downTo 2")
        .check(depthwiseLowest >= QuantizerSpec.SLOT_MIN_BITS && (candidates == null || depthwiseLowest <= candidates.highest()),
            "depthwiseLowest", "must lie in " + QuantizerSpec.SLOT_MIN_BITS + ".." + (candidates == null ? "8" : candidates.highest())
                + ", got " + depthwiseLowest)
        .check(fixedBits >= QuantizerSpec.SLOT_MIN_BITS && fixedBits <= QuantizerSpec.SLOT_MAX_BITS, "fixedBits",
            "must lie in 2..8, got " + fixedBits)
        .toMap();
  }
}
