package dev.kqat.runtime.train;

import org.tensorflow.Operand;
import org.tensorflow.op.Ops;
import org.tensorflow.types.TFloat32;
import org.tensorflow.types.TInt32;

/** Classification losses and metrics as TensorFlow ops. */
public final class Losses {
  private Losses() {}

  /**
   * Per-example softmax cross-entropy against labels smoothed by {@code smoothing}: the target is
   * {@code 1 - smoothing + smoothing/K} on the true class and {@code smoothing/K} elsewhere.
   */
  public static Operand<TFloat32> crossEntropy(
      Ops tf, Operand<TFloat32> logits, Operand<TInt32> labels, int numClasses, double smoothing) {
    float off = (float) (smoothing / numClasses);
    float on = (float) (1.0 - smoothing) + off;
    Operand<TFloat32> target =
        tf.oneHot(labels, tf.constant(numClasses), tf.constant(on), tf.constant(off));
    return tf.nn.softmaxCrossEntropyWithLogits(logits, target).loss();
  }

  /**
   * Per-example soft cross-entropy {@code -Σ_c t_c log softmax(z)_c} against target probabilities
   * (distillation, algorithms.md §3.4); its gradient to the logits is {@code softmax(z) - t}.
   */
  public static Operand<TFloat32> softCrossEntropy(Ops tf, Operand<TFloat32> logits, Operand<TFloat32> targets) {
    return tf.nn.softmaxCrossEntropyWithLogits(logits, targets).loss();
  }

  /** Number of examples whose arg-max logit is the label. */
  public static Operand<TFloat32> correctCount(Ops tf, Operand<TFloat32> logits, Operand<TInt32> labels) {
    return tf.reduceSum(hits(tf, logits, labels), tf.constant(0));
  }

  /** Per example: 1 where the top logit is the label, else 0. */
  public static Operand<TFloat32> hits(Ops tf, Operand<TFloat32> logits, Operand<TInt32> labels) {
    Operand<TInt32> predicted = tf.math.argMax(logits, tf.constant(1), TInt32.class);
    return tf.dtypes.cast(tf.math.equal(predicted, labels), TFloat32.class);
  }
}
