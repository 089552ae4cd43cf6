package dev.kqat.runtime.quant;

/**
 * What one weight layer costs per image (algorithms.md §2.9): its kernel's weights and its
 * multiply-accumulates, {@code weights × output positions} (output height × width of a convolution,
 * 1 for a dense layer; depth-wise kernels hold one weight per channel, so no {@code /groups}).
 * A side that is not quantized counts at {@link #FLOAT_BITS}.
 *
 * @param name the layer's name, e.g. {@code block3/dw}
 * @param weights kernel elements (the bias of a dense layer is not counted)
 * @param macs multiply-accumulates per image
 */
public record LayerCost(String name, LayerKind kind, long weights, long macs) {
  public static final int FLOAT_BITS = 32;

  /** Bit operations per image at these bit-widths: MACs × weight bits × activation bits. */
  public double bitOps(int weightBits, int activationBits) {
    return (double) macs * weightBits * activationBits;
  }

  /** Bits of the kernel stored at {@code weightBits}. */
  public long sizeBits(int weightBits) {
    return weights * weightBits;
  }
}
