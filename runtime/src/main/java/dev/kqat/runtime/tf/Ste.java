package dev.kqat.runtime.tf;

import java.util.List;
import org.tensorflow.Operand;
import org.tensorflow.TensorFlow;
import org.tensorflow.op.Ops;
import org.tensorflow.op.math.Round;
import org.tensorflow.types.TFloat32;

/**
 * Straight-through rounding.
 *
 * <p>TensorFlow's {@code Round} op has no C++ gradient, so kqat registers one from Java: the
 * identity (algorithms.md §0, "STE round"). Registration is process-global and cannot be undone,
 * and TF Java has reports of crashes after many registrations (tensorflow/java #512, #632), so
 * exactly one op type is registered, exactly once. {@code Round} rounds half to even, matching
 * the PyTorch references.
 */
public final class Ste {
  private static volatile boolean registered;

  private Ste() {}

  /** Registers the straight-through gradient of {@code Round}; safe to call many times. */
  public static synchronized void ensureRegistered() {
    if (registered) {
      return;
    }
    boolean ok =
        TensorFlow.registerCustomGradient(
            Round.Inputs.class, (tf, op, gradInputs) -> List.of(gradInputs.get(0)));
    if (!ok) {
      throw new IllegalStateException(
          "TensorFlow already has a gradient for Round; the straight-through estimator cannot be"
              + " registered");
    }
    registered = true;
  }

  /** {@code round(x)} forward (half to even), identity backward. */
  public static Operand<TFloat32> round(Ops tf, Operand<TFloat32> x) {
    ensureRegistered();
    return tf.math.round(x);
  }
}
