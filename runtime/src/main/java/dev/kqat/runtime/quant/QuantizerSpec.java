package dev.kqat.runtime.quant;

import dev.kqat.runtime.settings.Settings;
import java.util.Map;

/**
 * Everything that defines one quantizer, as plain data.
 *
 * @param bits bit-width, 2..16
 * @param perChannel one step size per output channel (weights only)
 * @param convention backward convention (algorithms.md §0.1)
 * @param gradientScaling LSQ step-size gradient scaling {@code 1/sqrt(p*N)} (§0.2)
 * @param init range initialisation method
 * @param candidates MSE grid size
 * @param learnable whether the step size is trained after initialisation (LSQ) or fixed
 */
public record QuantizerSpec(
    int bits,
    boolean perChannel,
    BackwardConvention convention,
    boolean gradientScaling,
    RangeInit init,
    int candidates,
    boolean learnable) implements Settings {

  /** MSE grid size of the reference implementation. */
  public static final int DEFAULT_CANDIDATES = 100;

  /** The default quantizer: 4-bit LSQ with OSC conventions ({@link #lsq}). */
  public static final QuantizerSpec DEFAULT = lsq(4);

  /** LSQ with OSC conventions: MSE init, per-tensor, no gradient scaling. */
  public static QuantizerSpec lsq(int bits) {
    return new QuantizerSpec(bits, false, BackwardConvention.ROUND_THEN_CLAMP, false, RangeInit.MSE, DEFAULT_CANDIDATES, true);
  }

  public QuantizerSpec withBits(int newBits) {
    return new QuantizerSpec(newBits, perChannel, convention, gradientScaling, init, candidates, learnable);
  }

  @Override
  public Map<String, String> problems() {
    return new Problems()
        .bits("bits", bits)
        .check(convention != null, "convention", "must be round-then-clamp or clamp-then-round")
        .check(init != null, "init", "must be mse or min-max")
        .check(candidates >= 1, "candidates", "must be >= 1, got " + candidates)
        .toMap();
  }
}
