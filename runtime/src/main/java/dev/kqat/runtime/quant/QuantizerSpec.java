package dev.kqat.runtime.quant;

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
    boolean learnable) {

  public QuantizerSpec {
    if (bits < 2 || bits > 16) {
      throw new IllegalArgumentException("bits must be in 2..16, got " + bits);
    }
    if (candidates < 1) {
      throw new IllegalArgumentException("MSE candidates must be >= 1, got " + candidates);
    }
  }

  /** LSQ with OSC conventions: MSE init, per-tensor, no gradient scaling. */
  public static QuantizerSpec lsq(int bits) {
    return new QuantizerSpec(bits, false, BackwardConvention.ROUND_THEN_CLAMP, false, RangeInit.MSE, 100, true);
  }

  public QuantizerSpec withBits(int newBits) {
    return new QuantizerSpec(newBits, perChannel, convention, gradientScaling, init, candidates, learnable);
  }
}
