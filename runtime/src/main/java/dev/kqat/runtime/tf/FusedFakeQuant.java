package dev.kqat.runtime.tf;

import org.tensorflow.Operand;
import org.tensorflow.Operation;
import org.tensorflow.Output;
import org.tensorflow.op.Ops;
import org.tensorflow.types.TFloat32;

/**
 * The fused fake-quantization ops of {@code src/main/c/kqat_fake_quant.c}: one pass over the
 * tensor forward ({@code KqatFakeQuant}) and one backward ({@code KqatFakeQuantGrad}), where plain
 * TensorFlow ops take four and five; part of {@link KqatNativeOps}' library.
 */
public final class FusedFakeQuant {
  static final String FORWARD = "KqatFakeQuant";
  static final String BACKWARD = "KqatFakeQuantGrad";

  private FusedFakeQuant() {}

  /** {@code s * round(clamp(x/s, n, p))}, half to even; {@code s} spans x's trailing axes or is a scalar. */
  public static Operand<TFloat32> forward(
      Ops tf, Operand<TFloat32> x, Operand<TFloat32> s, Operand<TFloat32> n, Operand<TFloat32> p) {
    KqatNativeOps.ensureLoaded();
    Operation op = tf.scope().opBuilder(FORWARD, FORWARD)
        .addInput(x.asOutput()).addInput(s.asOutput()).addInput(n.asOutput()).addInput(p.asOutput())
        .build();
    return op.output(0);
  }

  /**
   * The straight-through gradients for upstream gradient {@code g}: {@code [dL/dx, dL/ds]}, with the
   * pass-through window {@code lo <= x/s <= hi} (algorithms.md §0.1).
   */
  static Output<TFloat32>[] backward(Ops tf, Operand<TFloat32> g, Operand<TFloat32> x, Operand<TFloat32> s,
      Operand<TFloat32> n, Operand<TFloat32> p, Operand<TFloat32> lo, Operand<TFloat32> hi) {
    KqatNativeOps.ensureLoaded();
    Operation op = tf.scope().opBuilder(BACKWARD, BACKWARD)
        .addInput(g.asOutput()).addInput(x.asOutput()).addInput(s.asOutput())
        .addInput(n.asOutput()).addInput(p.asOutput()).addInput(lo.asOutput()).addInput(hi.asOutput())
        .build();
    @SuppressWarnings("unchecked")
    Output<TFloat32>[] out = new Output[] {op.output(0), op.output(1)};
    return out;
  }
}
