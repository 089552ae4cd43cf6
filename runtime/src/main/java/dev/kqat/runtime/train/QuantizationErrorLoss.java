package dev.kqat.runtime.train;

import org.tensorflow.Operand;
import org.tensorflow.op.Ops;
import org.tensorflow.types.TFloat32;
import org.tensorflow.types.TInt32;

/**
 * RFQuant's QE loss of one convolution kernel in a random subnet (algorithms.md §2.5), the reference's
 * oscillation-dampening analogue: with the subnet's weight bits {@code b}, the layer's lowest current
 * weight bit-width {@code bMin} and the detached step size {@code s_b}, the clipped latent weight
 * {@code wc = clip(W, s·n_b, s·p_b)} is pulled towards its quantized value {@code s·code} only where
 * that value also lies on the coarse {@code bMin}-bit grid of step {@code 2^(b-bMin)·s} (everywhere when
 * {@code b = bMin}); elsewhere the target is {@code wc} itself and the term is zero. Grid membership
 * compares integer codes, not floats. The term is {@code Σ over output channels, mean over the rest}
 * of {@code (wc - target)²}, i.e. the mean times the output channels (the kernel's last axis, HWIO;
 * a depth-wise {@code [h, w, C, 1]} kernel's channels are its third axis).
 */
final class QuantizationErrorLoss {
  private QuantizationErrorLoss() {}

  /**
   * @param kernel the latent kernel
   * @param stepSizes the weight quantizer's step size per bit-width, slots 2..8
   * @param bits the subnet's weight bits of the layer
   * @param lowest the layer's lowest current weight candidate
   */
  static Operand<TFloat32> term(Ops tf, Operand<TFloat32> kernel, Operand<TFloat32> stepSizes, Operand<TInt32> bits,
      Operand<TInt32> lowest, long outputChannels) {
    Operand<TFloat32> s = tf.stopGradient(tf.gather(stepSizes, tf.math.sub(bits, tf.constant(2)), tf.constant(0)));
    Operand<TFloat32> half = tf.math.pow(tf.constant(2f), tf.dtypes.cast(tf.math.sub(bits, tf.constant(1)), TFloat32.class));
    Operand<TFloat32> n = tf.math.neg(half);
    Operand<TFloat32> p = tf.math.sub(half, tf.constant(1f));
    Operand<TFloat32> wc = tf.clipByValue(kernel, tf.math.mul(s, n), tf.math.mul(s, p));
    Operand<TFloat32> code = tf.stopGradient(tf.math.round(tf.math.div(wc, s)));
    Operand<TFloat32> factor = tf.math.pow(tf.constant(2f), tf.dtypes.cast(tf.math.sub(bits, lowest), TFloat32.class));
    Operand<TFloat32> coarse = tf.math.div(code, factor);
    Operand<TFloat32> coarseHalf = tf.math.pow(tf.constant(2f), tf.dtypes.cast(tf.math.sub(lowest, tf.constant(1)), TFloat32.class));
    Operand<org.tensorflow.types.TBool> onGrid = tf.math.logicalAnd(
        tf.math.equal(tf.math.floorMod(code, factor), tf.zerosLike(code)),
        tf.math.logicalAnd(tf.math.greaterEqual(coarse, tf.math.neg(coarseHalf)),
            tf.math.lessEqual(coarse, tf.math.sub(coarseHalf, tf.constant(1f)))));
    Operand<TFloat32> target = tf.select(onGrid, tf.stopGradient(tf.math.mul(code, s)), wc);
    Operand<TFloat32> squared = tf.math.square(tf.math.sub(wc, target));
    return tf.math.mul(tf.math.mean(squared, tf.range(tf.constant(0), tf.rank(squared), tf.constant(1))),
        tf.constant((float) outputChannels));
  }
}
