package dev.kqat.runtime.train;

import org.tensorflow.Operand;
import org.tensorflow.op.Ops;
import org.tensorflow.types.TFloat32;
import org.tensorflow.types.TInt32;

/**
 * RFQuant's "adaptive region weight decay" term of one convolution kernel in a random subnet
 * (algorithms.md §2.5, {@code dist_loss}): {@code 0.5·Σ clip(W, s_2·n_2, s_2·p_2)²} where the subnet drew
 * exactly 2 weight bits for the layer, else 0, with the detached 2-bit step size {@code s_2} and the
 * signed 2-bit grid {@code n_2 = -2, p_2 = 1}. The supernet multiplies it by (adaptive-region decay −
 * weight decay), so that in-range weights of layers at 2 bits decay at the former rate instead of the
 * latter (the reference: 0 − 2.5e-5, i.e. no decay there).
 */
final class AdaptiveRegionDecayLoss {
  private AdaptiveRegionDecayLoss() {}

  /**
   * @param kernel the latent kernel
   * @param stepSizes the weight quantizer's step size per bit-width, slots 2..8
   * @param bits the subnet's weight bits of the layer
   */
  static Operand<TFloat32> term(Ops tf, Operand<TFloat32> kernel, Operand<TFloat32> stepSizes, Operand<TInt32> bits) {
    Operand<TFloat32> s2 = tf.stopGradient(tf.gather(stepSizes, tf.constant(0), tf.constant(0)));
    Operand<TFloat32> wc = tf.clipByValue(kernel, tf.math.mul(s2, tf.constant(-2f)), s2);
    Operand<TFloat32> half = tf.math.mul(tf.constant(0.5f),
        tf.reduceSum(tf.math.square(wc), tf.range(tf.constant(0), tf.rank(wc), tf.constant(1))));
    Operand<TFloat32> atTwoBits = tf.dtypes.cast(tf.math.equal(bits, tf.constant(2)), TFloat32.class);
    return tf.math.mul(atTwoBits, half);
  }
}
