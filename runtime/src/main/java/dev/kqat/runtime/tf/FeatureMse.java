package dev.kqat.runtime.tf;

import java.util.List;
import org.tensorflow.GraphOperation;
import org.tensorflow.Operand;
import org.tensorflow.Operation;
import org.tensorflow.Output;
import org.tensorflow.op.Ops;
import org.tensorflow.op.core.IdentityN;
import org.tensorflow.types.TFloat32;

/**
 * A masked feature-matching loss, {@code mask · mean((f − ref)²)} with {@code ref} held constant: RFQuant's
 * information-distortion term at one layer (algorithms.md §2.5), whose 0/1 mask is fed per step.
 *
 * <p>{@link #plain} builds it of TensorFlow ops beside the feature, on any device: about eight passes over
 * the feature map per step whatever the mask. {@link #fused} routes the feature itself through an
 * {@code IdentityN} carrying the loss's gradient ({@link IdentityNGradients}), computed by the kernels of
 * {@code src/main/c/kqat_feature_mse.c} ({@link KqatNativeOps}): one pass each way where the mask is 1, and
 * none where it is 0 (the feature's gradient is handed on as it comes). Both give the same values and
 * gradients; downstream ops must read {@link Tapped#feature}.
 */
public final class FeatureMse {
  static final String FORWARD = "KqatMaskedMse";
  static final String BACKWARD = "KqatMaskedMseGrad";
  /** Op name that marks an IdentityN as a fused feature loss. */
  static final String MARKER = "kqat_feature_mse";
  private static final int INPUTS = 4;

  /** The feature for the ops after it, and the scalar loss. */
  public record Tapped(Operand<TFloat32> feature, Operand<TFloat32> loss) {}

  private FeatureMse() {}

  /** The loss of TensorFlow ops; the feature is returned as it is. */
  public static Tapped plain(Ops tf, Operand<TFloat32> f, Operand<TFloat32> ref, Operand<TFloat32> mask) {
    Operand<TFloat32> diff = tf.math.sub(f, tf.stopGradient(ref));
    Operand<TFloat32> mse = tf.math.mean(tf.math.square(diff), tf.range(tf.constant(0), tf.rank(diff), tf.constant(1)));
    return new Tapped(f, tf.math.mul(mask, mse));
  }

  /** The loss of the fused kernels (CPU); the feature returned carries its gradient. */
  public static Tapped fused(Ops tf, Operand<TFloat32> f, Operand<TFloat32> ref, Operand<TFloat32> mask) {
    KqatNativeOps.ensureLoaded();
    IdentityNGradients.register(MARKER, INPUTS, FeatureMse::gradient);
    Operand<TFloat32> heldRef = tf.stopGradient(ref);
    Operand<TFloat32> heldMask = tf.stopGradient(mask);
    Operation mse = tf.scope().opBuilder(FORWARD, FORWARD)
        .addInput(f.asOutput()).addInput(heldRef.asOutput()).addInput(heldMask.asOutput()).build();
    // Everything but f enters behind stopGradient: the callback returns a tensor for every input,
    // and what it returns for these is dropped there.
    IdentityN carrier = tf.withName(MARKER).identityN(List.of(f, heldRef, heldMask, tf.stopGradient(mse.<TFloat32>output(0))));
    @SuppressWarnings("unchecked")
    Output<TFloat32> feature = (Output<TFloat32>) carrier.output().get(0);
    @SuppressWarnings("unchecked")
    Output<TFloat32> loss = (Output<TFloat32>) carrier.output().get(3);
    return new Tapped(feature, loss);
  }

  /** d/df = g_feature + g_loss · mask · 2(f − ref)/N, from {@code KqatMaskedMseGrad}. */
  @SuppressWarnings("unchecked")
  private static List<Operand<?>> gradient(Ops tf, GraphOperation op, List<Output<?>> grads) {
    Operation dx = tf.scope().opBuilder(BACKWARD, BACKWARD)
        .addInput((Output<TFloat32>) grads.get(0)).addInput((Output<TFloat32>) grads.get(3))
        .addInput(op.input(0)).addInput(op.input(1)).addInput(op.input(2)).build();
    return List.of(dx.output(0), op.input(1), op.input(2), op.input(3));
  }
}
