package dev.kqat.runtime.oscillation;

import dev.kqat.runtime.quant.Quantizer;
import org.tensorflow.Operand;
import org.tensorflow.op.Ops;
import org.tensorflow.types.TFloat32;
import org.tensorflow.types.TInt32;

/**
 * One layer's oscillation-dampening term (algorithms.md §1.5):
 * {@code AGG((sg(q(W)) − clip(W, s·n, s·p))²)}. The target is the fake-quantized weight as the
 * forward pass used it (frozen integers included) and carries no gradient; the latent weight is
 * clipped to the representable interval with a detached step size, so the term's gradient reaches
 * the weight only, and only inside that interval.
 */
public final class DampeningLoss {
  private DampeningLoss() {}

  /**
   * @param kernel the latent (raw) weight
   * @param quantized the fake-quantized weight of the forward pass
   * @param outputChannels size of the output-channel axis ({@link OscillationSpec.Aggregation#KERNEL_MEAN})
   */
  public static Operand<TFloat32> term(Ops tf, Quantizer quantizer, Operand<TFloat32> kernel,
      Operand<TFloat32> quantized, long outputChannels, OscillationSpec.Aggregation aggregation) {
    Operand<TFloat32> s = tf.stopGradient(quantizer.stepSize(tf));
    Operand<TFloat32> lowest = tf.math.mul(s, quantizer.lowest());
    Operand<TFloat32> highest = tf.math.mul(s, quantizer.highest());
    // minimum/maximum rather than ClipByValue: a per-channel s broadcasts over the kernel.
    Operand<TFloat32> clipped = tf.math.minimum(tf.math.maximum(kernel, lowest), highest);
    Operand<TFloat32> squared = tf.math.square(tf.math.sub(tf.stopGradient(quantized), clipped));
    int rank = kernel.shape().numDimensions();
    int[] axes = new int[rank];
    for (int i = 0; i < rank; i++) {
      axes[i] = i;
    }
    Operand<TInt32> all = tf.constant(axes);
    long elements = kernel.shape().size();
    return switch (aggregation) {
      case SUM -> tf.reduceSum(squared, all);
      case MEAN -> tf.math.mean(squared, all);
      // Sum over the output channels, mean over the rest: total · C_out / elements.
      case KERNEL_MEAN -> tf.math.mul(tf.reduceSum(squared, all),
          tf.constant((float) ((double) outputChannels / elements)));
    };
  }
}
