package dev.kqat.runtime.oscillation;

import dev.kqat.runtime.quant.Quantizer;
import org.tensorflow.Operand;
import org.tensorflow.op.Ops;
import org.tensorflow.types.TFloat32;
import org.tensorflow.types.TInt32;

/**
 * One weight layer's VVTQ bin regulariser (algorithms.md §3.3): with {@code wc = clamp(W/s, n, p)·s},
 * integer codes {@code c = rint(clamp(W/s, n, p))} and {@code wq = c·s},
 *
 * <pre>
 *   R = mean((sg(wq) − wc)²) + Σ_{k : |B_k| > 1} Var_unbiased({wc_i : c_i = k})
 * </pre>
 *
 * The first term is dampening with mean aggregation; the second pulls every bin's latent weights
 * towards their mean. Bin membership comes from the integer codes (the reference compares floats).
 * Gradients reach W and, through clamped elements ({@code wc = n·s} or {@code p·s}), the step size.
 */
public final class BinRegularizer {
  private BinRegularizer() {}

  /**
   * One layer's regulariser and, for reports, the bins' mean spread: the mean over bins holding two
   * or more weights of the unbiased variance of {@code clamp(W/s, n, p)}, in steps².
   */
  public record Bins(Operand<TFloat32> term, Operand<TFloat32> spread) {}

  /** @param kernel the latent weight the quantizer reads */
  public static Operand<TFloat32> term(Ops tf, Quantizer quantizer, Operand<TFloat32> kernel) {
    return of(tf, quantizer, kernel).term();
  }

  /** The term and the spread of one layer, from the same bins. */
  public static Bins of(Ops tf, Quantizer quantizer, Operand<TFloat32> kernel) {
    Operand<TFloat32> s = quantizer.stepSize(tf);
    Operand<TFloat32> n = quantizer.lowest();
    Operand<TFloat32> p = quantizer.highest();
    Operand<TFloat32> clamped = tf.math.minimum(tf.math.maximum(tf.math.div(kernel, s), n), p);
    Operand<TFloat32> integers = tf.stopGradient(tf.math.rint(clamped));
    // Flat from here on: bins span the whole tensor (a per-channel s has broadcast above).
    Operand<TInt32> flat = tf.constant(new int[] {-1});
    Operand<TFloat32> wc = tf.reshape(tf.math.mul(clamped, s), flat);
    Operand<TFloat32> codes = tf.reshape(integers, flat);
    Operand<TFloat32> wq = tf.reshape(tf.math.mul(integers, s), flat);
    Operand<TFloat32> dampening = tf.math.mean(tf.math.square(tf.math.sub(tf.stopGradient(wq), wc)), tf.constant(0));

    Operand<TInt32> bins = tf.dtypes.cast(tf.math.sub(codes, n), TInt32.class);
    Operand<TInt32> binCount = tf.dtypes.cast(tf.math.add(tf.math.sub(p, n), tf.constant(1f)), TInt32.class);
    Operand<TFloat32> one = tf.constant(1f);
    // Ones shaped like the codes (OnesLike has no C++ gradient, and the gradient builder visits it).
    Operand<TFloat32> ones = tf.math.add(tf.math.mul(codes, tf.constant(0f)), one);
    Operand<TFloat32> count = tf.math.unsortedSegmentSum(ones, bins, binCount);
    // Bins of two or more weights; the others have no unbiased variance and contribute nothing.
    Operand<TFloat32> populated = tf.dtypes.cast(tf.math.greater(count, one), TFloat32.class);
    Operand<TFloat32> variance = binVariances(tf, wc, bins, binCount, count, populated);
    Operand<TFloat32> term = tf.math.add(dampening, tf.reduceSum(variance, tf.constant(0)));
    Operand<TFloat32> inSteps = tf.stopGradient(tf.reshape(clamped, flat));
    Operand<TFloat32> spread = tf.math.div(
        tf.reduceSum(binVariances(tf, inSteps, bins, binCount, count, populated), tf.constant(0)),
        tf.math.maximum(tf.reduceSum(populated, tf.constant(0)), one));
    return new Bins(term, spread);
  }

  /** Per bin, the unbiased variance of {@code values} where {@code populated}, else 0. */
  private static Operand<TFloat32> binVariances(Ops tf, Operand<TFloat32> values, Operand<TInt32> bins,
      Operand<TInt32> binCount, Operand<TFloat32> count, Operand<TFloat32> populated) {
    Operand<TFloat32> one = tf.constant(1f);
    Operand<TFloat32> mean = tf.math.div(tf.math.unsortedSegmentSum(values, bins, binCount), tf.math.maximum(count, one));
    Operand<TFloat32> deviation = tf.math.sub(values, tf.gather(mean, bins, tf.constant(0)));
    Operand<TFloat32> squares = tf.math.unsortedSegmentSum(tf.math.square(deviation), bins, binCount);
    return tf.math.div(tf.math.mul(squares, populated), tf.math.maximum(tf.math.sub(count, one), one));
  }
}
