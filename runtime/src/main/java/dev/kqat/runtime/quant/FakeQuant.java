package dev.kqat.runtime.quant;

import dev.kqat.runtime.tf.Ste;
import org.tensorflow.Operand;
import org.tensorflow.op.Ops;
import org.tensorflow.types.TFloat32;

/**
 * Fake quantization as pure TensorFlow functions (algorithms.md §0, §0.1, §0.2).
 *
 * <p>Gradients fall out of autodiff: the registered straight-through {@code Round} gradient plus
 * {@code ClipByValue}'s gradient give exactly the input and step-size derivatives of §0.1 for
 * each convention. The step size may broadcast (per-channel: one value per output channel).
 */
public final class FakeQuant {
  private FakeQuant() {}

  /** Convention A: {@code s * clamp(round(x/s), n, p)}. */
  public static Operand<TFloat32> roundThenClamp(
      Ops tf, Operand<TFloat32> x, Operand<TFloat32> s, Operand<TFloat32> n, Operand<TFloat32> p) {
    Operand<TFloat32> integer = tf.clipByValue(Ste.round(tf, tf.math.div(x, s)), n, p);
    return tf.math.mul(integer, s);
  }

  /** Convention B: {@code s * round(clamp(x/s, n, p))}. */
  public static Operand<TFloat32> clampThenRound(
      Ops tf, Operand<TFloat32> x, Operand<TFloat32> s, Operand<TFloat32> n, Operand<TFloat32> p) {
    Operand<TFloat32> clamped = tf.clipByValue(tf.math.div(x, s), n, p);
    return tf.math.mul(Ste.round(tf, clamped), s);
  }

  /** Dispatches on the named convention. */
  public static Operand<TFloat32> apply(
      Ops tf,
      BackwardConvention convention,
      Operand<TFloat32> x,
      Operand<TFloat32> s,
      Operand<TFloat32> n,
      Operand<TFloat32> p) {
    return switch (convention) {
      case ROUND_THEN_CLAMP -> roundThenClamp(tf, x, s, n, p);
      case CLAMP_THEN_ROUND -> clampThenRound(tf, x, s, n, p);
    };
  }

  /** The integer grid index {@code clamp(round(x/s), n, p)} without straight-through semantics. */
  public static Operand<TFloat32> integers(
      Ops tf, Operand<TFloat32> x, Operand<TFloat32> s, Operand<TFloat32> n, Operand<TFloat32> p) {
    return tf.clipByValue(tf.math.round(tf.math.div(x, s)), n, p);
  }

  /**
   * LSQ gradient scaling: identity forward, gradient multiplied by {@code g} backward
   * ({@code s*g + sg(s - s*g)}).
   */
  public static Operand<TFloat32> scaleGradient(Ops tf, Operand<TFloat32> s, Operand<TFloat32> g) {
    Operand<TFloat32> scaled = tf.math.mul(s, g);
    return tf.math.add(scaled, tf.stopGradient(tf.math.sub(s, scaled)));
  }
}
