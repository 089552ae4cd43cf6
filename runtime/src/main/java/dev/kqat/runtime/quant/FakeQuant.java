package dev.kqat.runtime.quant;

import dev.kqat.runtime.tf.FusedFakeQuant;
import dev.kqat.runtime.tf.StraightThroughGradient;
import org.tensorflow.Operand;
import org.tensorflow.op.Ops;
import org.tensorflow.types.TFloat32;

/**
 * Fake quantization as pure TensorFlow functions (algorithms.md §0, §0.1, §0.2).
 *
 * <p>Both conventions compute the same forward value {@code s * clamp(round(x/s), n, p)} (with
 * integer bounds, rounding and clamping commute); they differ in the pass-through window of the
 * straight-through gradient, which {@link StraightThroughGradient} supplies. The step size is a
 * scalar or spans the trailing axes of x (per-channel: one value per output channel). Rounding is
 * half to even. The {@link FakeQuantKernel} decides whether plain TF ops or kqat's fused kernels
 * compute it; values are bit-identical, gradient sums agree to float rounding.
 */
public final class FakeQuant {
  private FakeQuant() {}

  /** Fake-quantizes with the {@linkplain FakeQuantKernel#preferred() preferred kernel}. */
  public static Operand<TFloat32> apply(
      Ops tf,
      BackwardConvention convention,
      Operand<TFloat32> x,
      Operand<TFloat32> s,
      Operand<TFloat32> n,
      Operand<TFloat32> p) {
    return apply(tf, FakeQuantKernel.preferred(), convention, x, s, n, p);
  }

  /**
   * {@code s * round(clamp(x/s, n, p))}, equal to {@code s * clamp(round(x/s), n, p)} for integer
   * bounds, with the straight-through gradient of the named convention: B (LSQ, RFQuant, VVTQ)
   * passes where {@code n <= x/s <= p}; A (OSC) where {@code round(x/s)} lies in [n, p], half a
   * bin wider.
   */
  public static Operand<TFloat32> apply(
      Ops tf,
      FakeQuantKernel kernel,
      BackwardConvention convention,
      Operand<TFloat32> x,
      Operand<TFloat32> s,
      Operand<TFloat32> n,
      Operand<TFloat32> p) {
    boolean roundFirst = convention == BackwardConvention.ROUND_THEN_CLAMP;
    Operand<TFloat32> lo = roundFirst ? roundsInto(tf, n, true) : n;
    Operand<TFloat32> hi = roundFirst ? roundsInto(tf, p, false) : p;
    return switch (kernel) {
      case FUSED -> StraightThroughGradient.attachFused(
          tf, FusedFakeQuant.forward(tf, x, s, n, p), x, s, n, p, lo, hi);
      case TF_OPS -> {
        Operand<TFloat32> u = tf.math.div(x, s);
        Operand<TFloat32> integer = tf.math.round(tf.clipByValue(u, n, p));
        yield StraightThroughGradient.attach(tf, tf.math.mul(integer, s), x, s, u, integer, lo, hi);
      }
    };
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
