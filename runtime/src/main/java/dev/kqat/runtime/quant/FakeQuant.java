package dev.kqat.runtime.quant;

import dev.kqat.runtime.tf.StraightThroughGradient;
import org.tensorflow.Operand;
import org.tensorflow.op.Ops;
import org.tensorflow.types.TFloat32;

/**
 * Fake quantization as pure TensorFlow functions (algorithms.md §0, §0.1, §0.2).
 *
 * <p>Both conventions compute the same forward value {@code s * clamp(round(x/s), n, p)} (with
 * integer bounds, rounding and clamping commute); they differ in the pass-through window of the
 * straight-through gradient, which {@link StraightThroughGradient} supplies. The step size may
 * broadcast over the trailing axes (per-channel: one value per output channel). Rounding is half
 * to even.
 */
public final class FakeQuant {
  private FakeQuant() {}

  /**
   * Convention A (OSC): {@code xi = clamp(round(x/s), n, p)}; the gradient passes where
   * {@code round(x/s)} lies in [n, p], half a bin wider than B.
   */
  public static Operand<TFloat32> roundThenClamp(
      Ops tf, Operand<TFloat32> x, Operand<TFloat32> s, Operand<TFloat32> n, Operand<TFloat32> p) {
    return quantize(tf, x, s, n, p, roundsInto(tf, n, true), roundsInto(tf, p, false));
  }

  /** Convention B (LSQ, RFQuant, VVTQ): {@code xi = round(clamp(x/s, n, p))}; passes where n ≤ x/s ≤ p. */
  public static Operand<TFloat32> clampThenRound(
      Ops tf, Operand<TFloat32> x, Operand<TFloat32> s, Operand<TFloat32> n, Operand<TFloat32> p) {
    return quantize(tf, x, s, n, p, n, p);
  }

  /**
   * {@code s * round(clamp(x/s, n, p))}, equal to {@code s * clamp(round(x/s), n, p)} for integer
   * bounds, with the straight-through gradient passing where {@code lo <= x/s <= hi}.
   */
  private static Operand<TFloat32> quantize(Ops tf, Operand<TFloat32> x, Operand<TFloat32> s,
      Operand<TFloat32> n, Operand<TFloat32> p, Operand<TFloat32> lo, Operand<TFloat32> hi) {
    Operand<TFloat32> u = tf.math.div(x, s);
    Operand<TFloat32> integer = tf.math.round(tf.clipByValue(u, n, p));
    return StraightThroughGradient.attach(tf, tf.math.mul(integer, s), x, s, u, integer, lo, hi);
  }

  /**
   * The outermost u with {@code round(u) == bound} (half to even) on the lower or upper side:
   * {@code bound ∓ 0.5} when that tie rounds to the bound (even bound), else the next float inward.
   */
  private static Operand<TFloat32> roundsInto(Ops tf, Operand<TFloat32> bound, boolean lower) {
    Operand<TFloat32> tie = tf.math.add(bound, tf.constant(lower ? -0.5f : 0.5f));
    Operand<TFloat32> inward = tf.math.nextAfter(tie, bound);
    return tf.select(tf.math.equal(tf.math.round(tie), bound), tie, inward);
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
