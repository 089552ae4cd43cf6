package dev.kqat.runtime.quant;

import dev.kqat.runtime.settings.Settings;
import java.util.Map;

/**
 * Everything that defines one quantizer, as plain data.
 *
 * @param bits bit-width, 2..16
 * @param perChannel one step size per output channel (weights only)
 * @param convention backward convention (algorithms.md §0.1)
 * @param gradientScaling the step-size gradient factor (§0.2)
 * @param init range initialisation method
 * @param candidates MSE grid size
 * @param learnable whether the step size is trained after initialisation (LSQ) or fixed
 * @param signedness fixed signed or unsigned grid, or decided from the calibration data
 * @param offset a learnable offset β, {@code q(x) = s·round(clamp((x-β)/s, n, p)) + β} (LSQ+,
 *     activations only; VVTQ's GELU output and {@code --use-offset})
 * @param perBitWidth one step size (and offset) per bit-width 2..8, the one of {@code bits} active
 *     (VVTQ §3.1): a trained model changes bit-width without a new initialisation
 * @param minStepSize the smallest step size: the forward uses at least it, and a learnable step
 *     size is clamped to it after every update, so that an optimizer step past zero leaves a step
 *     size that still learns rather than a dead quantizer (VVTQ clamps its scales in place to
 *     {@code >= 1e-4} before every forward, §3.1; {@value #DEFAULT_MIN_STEP_SIZE} elsewhere)
 */
public record QuantizerSpec(
    int bits,
    boolean perChannel,
    BackwardConvention convention,
    GradientScaling gradientScaling,
    RangeInit init,
    int candidates,
    boolean learnable,
    Signedness signedness,
    boolean offset,
    boolean perBitWidth,
    double minStepSize) implements Settings {

  /** The step-size floor of quantizers other than VVTQ's. */
  public static final double DEFAULT_MIN_STEP_SIZE = 1e-8;

  /** VVTQ's in-place scale clamp (§3.1). */
  public static final double VVTQ_MIN_STEP_SIZE = 1e-4;

  /** A spec with the default step-size floor. */
  public QuantizerSpec(int bits, boolean perChannel, BackwardConvention convention, GradientScaling gradientScaling,
      RangeInit init, int candidates, boolean learnable, Signedness signedness, boolean offset, boolean perBitWidth) {
    this(bits, perChannel, convention, gradientScaling, init, candidates, learnable, signedness, offset, perBitWidth,
        DEFAULT_MIN_STEP_SIZE);
  }

  /** MSE grid size of the reference implementation. */
  public static final int DEFAULT_CANDIDATES = 100;

  /** The bit-widths that hold a step size of their own when {@link #perBitWidth}. */
  public static final int SLOT_MIN_BITS = 2;
  public static final int SLOT_MAX_BITS = 8;

  /** The default quantizer: 4-bit LSQ with OSC conventions ({@link #lsq}). */
  public static final QuantizerSpec DEFAULT = lsq(4);

  /** LSQ with OSC conventions: MSE init, per-tensor, no gradient scaling, signedness from data. */
  public static QuantizerSpec lsq(int bits) {
    return new QuantizerSpec(bits, false, BackwardConvention.ROUND_THEN_CLAMP, GradientScaling.OFF, RangeInit.MSE,
        DEFAULT_CANDIDATES, true, Signedness.FROM_DATA, false, false);
  }

  /**
   * VVTQ's weight quantizer (§3.1): per-tensor, signed, clamp-then-round, VVTQ gradient scaling,
   * least-squares init, a step size per bit-width.
   */
  public static QuantizerSpec vvtqWeights(int bits) {
    return new QuantizerSpec(bits, false, BackwardConvention.CLAMP_THEN_ROUND, GradientScaling.VVTQ,
        RangeInit.LEAST_SQUARES, DEFAULT_CANDIDATES, true, Signedness.SIGNED, false, true, VVTQ_MIN_STEP_SIZE);
  }

  /** VVTQ's {@code QuantAct}: as {@link #vvtqWeights} with the 2·mean|x|/√p init. */
  public static QuantizerSpec vvtqActivations(int bits) {
    return new QuantizerSpec(bits, false, BackwardConvention.CLAMP_THEN_ROUND, GradientScaling.VVTQ,
        RangeInit.MEAN_MAGNITUDE, DEFAULT_CANDIDATES, true, Signedness.SIGNED, false, true, VVTQ_MIN_STEP_SIZE);
  }

  public QuantizerSpec withBits(int newBits) {
    return new QuantizerSpec(newBits, perChannel, convention, gradientScaling, init, candidates, learnable,
        signedness, offset, perBitWidth, minStepSize);
  }

  public QuantizerSpec withSignedness(Signedness s) {
    return new QuantizerSpec(bits, perChannel, convention, gradientScaling, init, candidates, learnable, s, offset,
        perBitWidth, minStepSize);
  }

  public QuantizerSpec withOffset(boolean o) {
    return new QuantizerSpec(bits, perChannel, convention, gradientScaling, init, candidates, learnable, signedness,
        o, perBitWidth, minStepSize);
  }

  /** How many step sizes per channel the quantizer holds: 7 per bit-width, or 1. */
  public int slots() {
    return perBitWidth ? SLOT_MAX_BITS - SLOT_MIN_BITS + 1 : 1;
  }

  /** The slot of {@link #bits} among {@link #slots()}. */
  public int activeSlot() {
    return perBitWidth ? bits - SLOT_MIN_BITS : 0;
  }

  @Override
  public Map<String, String> problems() {
    return new Problems()
        .bits("bits", bits)
        .check(convention != null, "convention", "must be round-then-clamp or clamp-then-round")
        .check(gradientScaling != null, "gradientScaling", "must be off, lsq or vvtq")
        .check(init != null, "init", "must be mse, min-max, least-squares, mean-magnitude, lsq-magnitude or three-sigma")
        .check(candidates >= 1, "candidates", "must be >= 1, got " + candidates)
        .check(minStepSize > 0 && Double.isFinite(minStepSize), "minStepSize", "must be > 0, got " + minStepSize)
        .check(signedness != null, "signedness", "must be from-data, signed or unsigned")
        .check(!perBitWidth || (bits >= SLOT_MIN_BITS && bits <= SLOT_MAX_BITS), "bits",
            "a step size per bit-width covers " + SLOT_MIN_BITS + ".." + SLOT_MAX_BITS + " bits, got " + bits)
        .check(!perBitWidth || !perChannel, "perBitWidth", "a step size per bit-width is per tensor; set perChannel = false")
        .check(!offset || !perChannel, "offset", "an offset is per tensor; set perChannel = false")
        .toMap();
  }
}
