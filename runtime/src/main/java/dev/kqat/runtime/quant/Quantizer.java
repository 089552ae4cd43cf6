package dev.kqat.runtime.quant;

import dev.kqat.runtime.tf.ParamRole;
import dev.kqat.runtime.tf.ParamStore;
import org.tensorflow.Operand;
import org.tensorflow.ndarray.Shape;
import org.tensorflow.op.Op;
import org.tensorflow.op.Ops;
import org.tensorflow.op.core.Assign;
import org.tensorflow.op.core.Placeholder;
import org.tensorflow.op.core.Variable;
import org.tensorflow.types.TFloat32;
import org.tensorflow.types.TInt32;

/**
 * One fake quantizer in a graph: a step-size variable (scalar, one per output channel, or one per
 * bit-width 2..8 of which {@code bits} picks one), an optional learnable offset (LSQ+), and its
 * integer range: constants when the spec fixes the signedness, else variables set at calibration
 * from the data's sign. Applying it twice (train and eval forward) shares the same variables.
 */
public final class Quantizer {
  private final String name;
  private final QuantizerTarget target;
  private final QuantizerSpec spec;
  private final FakeQuantKernel kernel;
  private final int channels;
  private final Shape scaleShape;
  private final Shape variableShape;
  private final Variable<TFloat32> scale;
  private final Variable<TFloat32> offset;
  private final Operand<TFloat32> currentStepSize;
  private final Operand<TFloat32> lowest;
  private final Operand<TFloat32> highest;
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
    this.variableShape = spec.perBitWidth() ? Shape.of(spec.slots()) : scaleShape;
    ParamRole scaleRole = spec.learnable() ? ParamRole.QUANTIZER : ParamRole.QUANTIZER_RANGE;
    this.scale = params.getOrCreate(scaleName(), variableShape, scaleRole, s -> params.fill(s, 1f));
    this.offset = spec.offset()
        ? params.getOrCreate(name + "/offset", variableShape, scaleRole, s -> params.fill(s, 0f))
        : null;
    this.currentStepSize = activeSlot(tf, scale);
    this.scaleFeed = tf.placeholder(TFloat32.class, Placeholder.shape(variableShape));
    this.assignScale = tf.assign(scale, scaleFeed);
    if (spec.signedness() == Signedness.FROM_DATA) {
      IntRange initial = IntRange.signed(spec.bits());
      Variable<TFloat32> n =
          params.getOrCreate(name + "/n", Shape.scalar(), ParamRole.QUANTIZER_RANGE, s -> params.fill(s, initial.n()));
      Variable<TFloat32> p =
          params.getOrCreate(name + "/p", Shape.scalar(), ParamRole.QUANTIZER_RANGE, s -> params.fill(s, initial.p()));
      this.lowest = n;
      this.highest = p;
      this.lowestFeed = tf.placeholder(TFloat32.class, Placeholder.shape(Shape.scalar()));
      this.highestFeed = tf.placeholder(TFloat32.class, Placeholder.shape(Shape.scalar()));
      this.assignLowest = tf.assign(n, lowestFeed);
      this.assignHighest = tf.assign(p, highestFeed);
    } else {
      // A fixed grid is part of the graph, not of the checkpoint: a model trained at 4 bits and
      // restarted at 3 takes its 3-bit step size and the 3-bit range.
      IntRange range = spec.signedness().range(spec.bits());
      this.lowest = tf.constant((float) range.n());
      this.highest = tf.constant((float) range.p());
      this.lowestFeed = null;
      this.highestFeed = null;
      this.assignLowest = null;
      this.assignHighest = null;
    }
  }

  /** Fake-quantizes {@code x} with this quantizer's convention, current step size and offset. */
  public Operand<TFloat32> apply(Ops tf, Operand<TFloat32> x) {
    if (offset == null) {
      return FakeQuant.apply(tf, kernel, spec.convention(), x, learnedStepSize(tf, x), lowest, highest);
    }
    // LSQ+: s·round(clamp((x-β)/s, n, p)) + β; β's gradient is 1 where clamped, 0 inside.
    Operand<TFloat32> beta = offset(tf);
    Operand<TFloat32> shifted = tf.math.sub(x, beta);
    return tf.math.add(
        FakeQuant.apply(tf, kernel, spec.convention(), shifted, learnedStepSize(tf, x), lowest, highest), beta);
  }

  /**
   * Fake-quantizes {@code x} at {@code bits}, an input of the graph (a supernet's layer, algorithms.md
   * §2.3): the step size of that bit-width's slot and that bit-width's grid, signed or unsigned as the
   * spec fixes it or as calibration found it. The other slots take no part, so only the active one
   * receives gradient; choosing another bit-width feeds an integer and builds nothing.
   */
  public Operand<TFloat32> apply(Ops tf, Operand<TFloat32> x, Operand<TInt32> bits) {
    if (!spec.perBitWidth() || offset != null) {
      throw new IllegalStateException(name + ": a switchable bit-width needs a step size per bit-width and no offset");
    }
    Operand<TFloat32> slotMask = tf.oneHot(tf.math.sub(bits, tf.constant(QuantizerSpec.SLOT_MIN_BITS)),
        tf.constant(spec.slots()), tf.constant(1f), tf.constant(0f));
    Operand<TFloat32> s = atLeastMinStep(tf, slot(tf, scale, slotMask));
    Grid grid = gridAt(tf, bits);
    return FakeQuant.apply(tf, kernel, spec.convention(), x, scaledForGradient(tf, s, grid.p(), x), grid.n(), grid.p());
  }

  /** The integer range {@code [n, p]} of a grid as tensors. */
  private record Grid(Operand<TFloat32> n, Operand<TFloat32> p) {}

  /**
   * The grid at {@code bits}: signed {@code [-2^(b-1), 2^(b-1)-1]} or unsigned {@code [0, 2^b-1]};
   * with the signedness from data, signed when calibration set a negative n.
   */
  private Grid gridAt(Ops tf, Operand<TInt32> bits) {
    Operand<TFloat32> levels = tf.math.pow(tf.constant(2f), tf.dtypes.cast(bits, TFloat32.class));
    Operand<TFloat32> half = tf.math.mul(levels, tf.constant(0.5f));
    Operand<TFloat32> signed = switch (spec.signedness()) {
      case SIGNED -> tf.constant(1f);
      case UNSIGNED -> tf.constant(0f);
      case FROM_DATA -> tf.dtypes.cast(tf.math.less(lowest, tf.constant(0f)), TFloat32.class);
    };
    return new Grid(tf.math.neg(tf.math.mul(signed, half)),
        tf.math.sub(tf.math.sub(levels, tf.constant(1f)), tf.math.mul(signed, half)));
  }

  /**
   * The step size as the fake quantization of {@code x} uses it: its value is {@link #stepSize},
   * its gradient carries the spec's gradient scaling (§0.2).
   */
  public Operand<TFloat32> learnedStepSize(Ops tf, Operand<TFloat32> x) {
    return scaledForGradient(tf, stepSize(tf), highest, x);
  }

  /** {@code s} with the spec's gradient scaling (§0.2) for a grid whose top is {@code p}. */
  private Operand<TFloat32> scaledForGradient(Ops tf, Operand<TFloat32> s, Operand<TFloat32> highest, Operand<TFloat32> x) {
    Operand<TFloat32> g = switch (spec.gradientScaling()) {
      case OFF -> null;
      // 1/sqrt(p * N), N = elements per step-size value (OSC/RFQ rule).
      case LSQ -> tf.math.rsqrt(tf.math.mul(highest,
          tf.math.div(tf.dtypes.cast(tf.size(x), TFloat32.class), tf.constant((float) channels))));
      // VVTQ: kernels 1/sqrt(p * sum|W|), activations 1/(sqrt(numel) * p); a factor, never a path to x.
      case VVTQ -> tf.stopGradient(target == QuantizerTarget.WEIGHT
          ? tf.math.rsqrt(tf.math.mul(highest, tf.reduceSum(tf.math.abs(x), allAxes(tf, x))))
          : tf.math.div(tf.math.rsqrt(tf.dtypes.cast(tf.size(x), TFloat32.class)), highest));
    };
    return g == null ? s : FakeQuant.scaleGradient(tf, s, g);
  }

  /** The active step size, at least the spec's {@code minStepSize}. */
  public Operand<TFloat32> stepSize(Ops tf) {
    return atLeastMinStep(tf, activeSlot(tf, scale));
  }

  private Operand<TFloat32> atLeastMinStep(Ops tf, Operand<TFloat32> s) {
    return tf.math.maximum(s, tf.constant((float) spec.minStepSize()));
  }

  /**
   * Clamps the step-size variable (every slot) to the spec's {@code minStepSize}, for after an
   * optimizer update: below it the forward's floor would pass no gradient and the quantizer would
   * never recover.
   */
  public Op clampStepSize(Ops tf) {
    return tf.assign(scale, tf.math.maximum(scale, tf.constant((float) spec.minStepSize())));
  }

  /** The active step size as one tensor built with the quantizer, for reports and exports to fetch. */
  public Operand<TFloat32> currentStepSize() {
    return currentStepSize;
  }

  /** The active offset β; 0 without one. */
  public Operand<TFloat32> offset(Ops tf) {
    return offset == null ? tf.constant(0f) : activeSlot(tf, offset);
  }

  /** Integer grid values of {@code x} (no gradient semantics), for trackers and reports. */
  public Operand<TFloat32> integers(Ops tf, Operand<TFloat32> x) {
    Operand<TFloat32> shifted = offset == null ? x : tf.math.sub(x, offset(tf));
    return FakeQuant.integers(tf, shifted, stepSize(tf), lowest, highest);
  }

  /** The slot of the configured bit-width. */
  private Operand<TFloat32> activeSlot(Ops tf, Variable<TFloat32> perBit) {
    if (!spec.perBitWidth()) {
      return perBit;
    }
    float[] oneHot = new float[spec.slots()];
    oneHot[spec.activeSlot()] = 1f;
    return slot(tf, perBit, tf.constant(oneHot));
  }

  /** The slot {@code mask} (one-hot) picks: a product, whose gradient TF Java's C++ API has and which reaches that slot only. */
  private static Operand<TFloat32> slot(Ops tf, Variable<TFloat32> perBit, Operand<TFloat32> mask) {
    return tf.reduceSum(tf.math.mul(perBit, mask), tf.constant(0));
  }

  private static Operand<TInt32> allAxes(Ops tf, Operand<TFloat32> x) {
    // int32 axes: the C++ gradients of reductions fail on int64 ones in TF Java 1.1.
    return tf.range(tf.constant(0), tf.rank(x), tf.constant(1));
  }

  /** The lowest integer n of the grid: a variable when signedness is decided at calibration. */
  public Operand<TFloat32> lowest() {
    return lowest;
  }

  /** The highest integer p of the grid. */
  public Operand<TFloat32> highest() {
    return highest;
  }

  /** Whether calibration decides the integer range from the data's sign. */
  public boolean rangeFromData() {
    return assignLowest != null;
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

  /** The shape of one active step size: {@code []} or the output-channel dims. */
  public Shape scaleShape() {
    return scaleShape;
  }

  /** The step-size variable: the active step size, or {@code [7]} step sizes with {@code perBitWidth}. */
  public Variable<TFloat32> scale() {
    return scale;
  }

  /** The offset variable, shaped as {@link #scale()}, or null without an offset. */
  public Variable<TFloat32> offsetVariable() {
    return offset;
  }

  /** The name of the step-size variable in the graph and in checkpoints. */
  public String scaleName() {
    return name + "/scale";
  }

  Shape variableShape() {
    return variableShape;
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
