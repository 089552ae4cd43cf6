package dev.kqat.runtime.tf;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import org.tensorflow.GraphOperation;
import org.tensorflow.Operand;
import org.tensorflow.Output;
import org.tensorflow.op.Ops;
import org.tensorflow.op.core.IdentityN;
import org.tensorflow.types.TFloat32;
import org.tensorflow.types.TInt32;

/**
 * The straight-through fake-quantization gradient, one of {@link IdentityNGradients}.
 *
 * <p>The forward value {@code s * xi} is computed by plain ops; {@link #attach} then routes it
 * through an {@code IdentityN} that also takes what the backward pass needs. Its gradient is, for
 * both conventions of algorithms.md §0.1 (they differ only in the window [lo, hi] on u = x/s):
 *
 * <pre>
 *   dL/dx = g · [lo ≤ u ≤ hi]
 *   dL/ds = Σ g · (xi − [lo ≤ u ≤ hi] · u)  =  g·xi − dL/dx·u,  summed to the step size's shape
 * </pre>
 *
 * in five passes over the tensor (a fused mask, two products, two reductions) where autodiff
 * through {@code div}, {@code round} and {@code clip} takes about fifteen. {@link #attachFused}
 * builds the same gradient from {@link FusedFakeQuant}'s one-pass kernel instead (docs/benchmarks.md
 * has the step-time figures of both).
 */
public final class StraightThroughGradient {
  /** Op name that marks an IdentityN as a fake quantizer built of plain ops ({@code _N} appended when taken). */
  static final String MARKER = "kqat_fake_quant";
  /** Op name that marks an IdentityN as a fake quantizer built of the fused kernels. */
  static final String FUSED_MARKER = "kqat_fused_fake_quant";

  private static final int INPUTS = 8;
  private static final int FUSED_INPUTS = 7;

  private StraightThroughGradient() {}

  /** Registers the gradient; safe to call many times. */
  public static void ensureRegistered() {
    IdentityNGradients.register(MARKER, INPUTS, StraightThroughGradient::plainGradient);
    IdentityNGradients.register(FUSED_MARKER, FUSED_INPUTS, StraightThroughGradient::fusedGradient);
  }

  /**
   * Returns {@code q} (its value unchanged) carrying the straight-through gradient.
   *
   * @param q the fake-quantized value {@code s * xi}
   * @param x the quantizer input
   * @param s the step size: a scalar, or the trailing dimensions of {@code x}
   * @param u {@code x / s}
   * @param xi the integer grid values
   * @param lo,hi scalars: the gradient passes where {@code lo <= u <= hi}
   */
  public static Operand<TFloat32> attach(Ops tf, Operand<TFloat32> q, Operand<TFloat32> x, Operand<TFloat32> s,
      Operand<TFloat32> u, Operand<TFloat32> xi, Operand<TFloat32> lo, Operand<TFloat32> hi) {
    ensureRegistered();
    int xRank = x.shape().numDimensions();
    int sRank = s.shape().numDimensions();
    if (xRank < 0 || sRank < 0 || sRank > xRank) {
      throw new IllegalArgumentException("fake quantization needs static ranks, the step size's no larger, got "
          + x.shape() + " and " + s.shape());
    }
    // The axes dL/ds is summed over (those the step size broadcasts along) travel as an input:
    // the gradient callback cannot ask the graph for shapes (the gradient builder holds its lock).
    int[] leading = new int[xRank - sRank];
    Arrays.setAll(leading, i -> i);
    // Everything but x and s enters behind stopGradient: the callback must return a tensor for
    // every input (the Java adapter takes no null), and what it returns for these is dropped at
    // the StopGradient.
    // The marker is the op's own name, not a sub-scope: TF Java's withSubScope scans every op of the
    // graph, which made building a graph of many quantizers quadratic.
    IdentityN carrier = tf.withName(MARKER).identityN(List.of(tf.stopGradient(q), x, s,
        tf.stopGradient(u), tf.stopGradient(xi), tf.stopGradient(lo), tf.stopGradient(hi),
        tf.constant(leading)));
    @SuppressWarnings("unchecked")
    Output<TFloat32> out = (Output<TFloat32>) carrier.output().get(0);
    return out;
  }

  /**
   * Returns {@code q}, the output of {@link FusedFakeQuant#forward}, carrying the straight-through
   * gradient computed by {@link FusedFakeQuant}'s backward kernel.
   *
   * @param n,p the integer range, scalars
   * @param lo,hi scalars: the gradient passes where {@code lo <= x/s <= hi}
   */
  public static Operand<TFloat32> attachFused(Ops tf, Operand<TFloat32> q, Operand<TFloat32> x,
      Operand<TFloat32> s, Operand<TFloat32> n, Operand<TFloat32> p, Operand<TFloat32> lo, Operand<TFloat32> hi) {
    ensureRegistered();
    IdentityN carrier = tf.withName(FUSED_MARKER).identityN(List.of(tf.stopGradient(q), x, s,
        tf.stopGradient(n), tf.stopGradient(p), tf.stopGradient(lo), tf.stopGradient(hi)));
    @SuppressWarnings("unchecked")
    Output<TFloat32> out = (Output<TFloat32>) carrier.output().get(0);
    return out;
  }

  /**
   * Whether {@code op} is the {@code IdentityN} of a fake quantizer built by {@link #attach} or
   * {@link #attachFused}: output 0 is the fake-quantized value, input 1 the quantizer input and
   * input 2 the step size the forward pass used (ONNX export reads them).
   */
  public static boolean isFakeQuantizer(GraphOperation op) {
    return IdentityNGradients.isMarked(op, MARKER, INPUTS) || IdentityNGradients.isMarked(op, FUSED_MARKER, FUSED_INPUTS);
  }

  @SuppressWarnings("unchecked")
  private static List<Operand<?>> fusedGradient(Ops tf, GraphOperation op, List<Output<?>> grads) {
    Output<TFloat32>[] dxds = FusedFakeQuant.backward(tf, (Operand<TFloat32>) grads.get(0),
        (Operand<TFloat32>) op.input(1), (Operand<TFloat32>) op.input(2), (Operand<TFloat32>) op.input(3),
        (Operand<TFloat32>) op.input(4), (Operand<TFloat32>) op.input(5), (Operand<TFloat32>) op.input(6));
    List<Operand<?>> out = new ArrayList<>();
    for (int i = 0; i < FUSED_INPUTS; i++) {
      out.add(i == 1 ? dxds[0] : i == 2 ? dxds[1] : op.input(i));
    }
    return out;
  }

  @SuppressWarnings("unchecked")
  private static List<Operand<?>> plainGradient(Ops tf, GraphOperation op, List<Output<?>> grads) {
    Operand<TFloat32> g = (Operand<TFloat32>) grads.get(0);
    Operand<TFloat32> u = (Operand<TFloat32>) op.input(3);
    Operand<TFloat32> xi = (Operand<TFloat32>) op.input(4);
    Operand<TInt32> axes = (Operand<TInt32>) op.input(7);
    // QuantizeAndDequantizeV4Grad is TensorFlow's fused "gradient where lo <= u <= hi".
    Operand<TFloat32> dx = tf.quantization.quantizeAndDequantizeV4Grad(
        g, u, (Operand<TFloat32>) op.input(5), (Operand<TFloat32>) op.input(6)).inputBackprop();
    // Two products summed apart: reductions only read, where a Sub would write a third tensor.
    Operand<TFloat32> ds =
        tf.math.sub(tf.reduceSum(tf.math.mul(g, xi), axes), tf.reduceSum(tf.math.mul(dx, u), axes));
    // op.inputs() and shape queries would wait on the graph lock the gradient builder holds;
    // op.input(i) does not.
    List<Operand<?>> out = new ArrayList<>();
    for (int i = 0; i < INPUTS; i++) {
      out.add(i == 1 ? dx : i == 2 ? ds : op.input(i));
    }
    return out;
  }
}
