package dev.kqat.runtime.quant;

import dev.kqat.runtime.tf.ParamRole;
import dev.kqat.runtime.tf.ParamStore;
import org.tensorflow.Operand;
import org.tensorflow.ndarray.Shape;
import org.tensorflow.op.Ops;
import org.tensorflow.op.core.Assign;
import org.tensorflow.op.core.Placeholder;
import org.tensorflow.op.core.Variable;
import org.tensorflow.types.TFloat32;

/**
 * One fake quantizer in a graph: a step-size variable (scalar, or one per output channel) and its
 * integer range, kept as variables because signedness is decided from data at initialisation.
 * Applying it twice (train and eval forward) shares the same variables.
 */
public final class Quantizer {
  private final String name;
  private final QuantizerTarget target;
  private final QuantizerSpec spec;
  private final FakeQuantKernel kernel;
  private final int channels;
  private final Shape scaleShape;
  private final Variable<TFloat32> scale;
  private final Variable<TFloat32> lowest;
  private final Variable<TFloat32> highest;
  private final Placeholder<TFloat32> scaleFeed;
  private final Placeholder<TFloat32> lowestFeed;
  private final Placeholder<TFloat32> highestFeed;
  private final Assign<TFloat32> assignScale;
  private final Assign<TFloat32> assignLowest;
  private final Assign<TFloat32> assignHighest;

  /**
   * @param name quantizer name, e.g. {@code block1/dw/weight}
   * @param target whether it quantizes a kernel or an activation
   * @param scaleShape {@code []} for per-tensor, the trailing output-channel dims for per-channel
   * @param kernel what computes the fake quantization
   */
  public Quantizer(ParamStore params, String name, QuantizerTarget target, QuantizerSpec spec, Shape scaleShape,
      FakeQuantKernel kernel) {
    Ops tf = params.tf();
    this.name = name;
    this.target = target;
    this.spec = spec.requireValid();
    this.kernel = kernel;
    this.scaleShape = scaleShape;
    this.channels = (int) Math.max(1, scaleShape.size());
    IntRange initial = IntRange.signed(spec.bits());
    ParamRole scaleRole = spec.learnable() ? ParamRole.QUANTIZER : ParamRole.QUANTIZER_RANGE;
    this.scale = params.getOrCreate(scaleName(), scaleShape, scaleRole, s -> params.fill(s, 1f));
    this.lowest =
        params.getOrCreate(name + "/n", Shape.scalar(), ParamRole.QUANTIZER_RANGE, s -> params.fill(s, initial.n()));
    this.highest =
        params.getOrCreate(name + "/p", Shape.scalar(), ParamRole.QUANTIZER_RANGE, s -> params.fill(s, initial.p()));
    this.scaleFeed = tf.placeholder(TFloat32.class, Placeholder.shape(scaleShape));
    this.lowestFeed = tf.placeholder(TFloat32.class, Placeholder.shape(Shape.scalar()));
    this.highestFeed = tf.placeholder(TFloat32.class, Placeholder.shape(Shape.scalar()));
    this.assignScale = tf.assign(scale, scaleFeed);
    this.assignLowest = tf.assign(lowest, lowestFeed);
    this.assignHighest = tf.assign(highest, highestFeed);
  }

  /** Fake-quantizes {@code x} with this quantizer's convention and current step size. */
  public Operand<TFloat32> apply(Ops tf, Operand<TFloat32> x) {
    return FakeQuant.apply(tf, kernel, spec.convention(), x, learnedStepSize(tf, x), lowest, highest);
  }

  /**
   * The step size as the fake quantization of {@code x} uses it: its value is {@link #stepSize},
   * its gradient carries LSQ gradient scaling when the spec asks for it.
   */
  public Operand<TFloat32> learnedStepSize(Ops tf, Operand<TFloat32> x) {
    Operand<TFloat32> s = stepSize(tf);
    if (!spec.gradientScaling()) {
      return s;
    }
    // g = 1/sqrt(p * N), N = elements per step-size value (§0.2, OSC/RFQ rule).
    Operand<TFloat32> perScale =
        tf.math.div(tf.dtypes.cast(tf.size(x), TFloat32.class), tf.constant((float) channels));
    Operand<TFloat32> g = tf.math.rsqrt(tf.math.mul(highest, perScale));
    return FakeQuant.scaleGradient(tf, s, g);
  }

  /** The step size, kept away from zero. */
  public Operand<TFloat32> stepSize(Ops tf) {
    return tf.math.maximum(scale, tf.constant(1e-8f));
  }

  /** Integer grid values of {@code x} (no gradient semantics), for trackers and reports. */
  public Operand<TFloat32> integers(Ops tf, Operand<TFloat32> x) {
    return FakeQuant.integers(tf, x, stepSize(tf), lowest, highest);
  }

  /** The lowest integer n of the grid (a variable: signedness is decided at calibration). */
  public Variable<TFloat32> lowest() {
    return lowest;
  }

  /** The highest integer p of the grid. */
  public Variable<TFloat32> highest() {
    return highest;
  }

  public String name() {
    return name;
  }

  public QuantizerTarget target() {
    return target;
  }

  public QuantizerSpec spec() {
    return spec;
  }

  public int channels() {
    return channels;
  }

  public Shape scaleShape() {
    return scaleShape;
  }

  public Variable<TFloat32> scale() {
    return scale;
  }

  /** The name of the step-size variable in the graph and in checkpoints. */
  public String scaleName() {
    return name + "/scale";
  }

  Placeholder<TFloat32> scaleFeed() {
    return scaleFeed;
  }

  Placeholder<TFloat32> lowestFeed() {
    return lowestFeed;
  }

  Placeholder<TFloat32> highestFeed() {
    return highestFeed;
  }

  Assign<TFloat32> assignScale() {
    return assignScale;
  }

  Assign<TFloat32> assignLowest() {
    return assignLowest;
  }

  Assign<TFloat32> assignHighest() {
    return assignHighest;
  }
}
