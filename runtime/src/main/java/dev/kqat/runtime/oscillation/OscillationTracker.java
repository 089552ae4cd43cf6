package dev.kqat.runtime.oscillation;

import dev.kqat.runtime.tf.ParamRole;
import dev.kqat.runtime.tf.ParamStore;
import java.util.ArrayList;
import java.util.List;
import org.tensorflow.Operand;
import org.tensorflow.ndarray.Shape;
import org.tensorflow.op.Op;
import org.tensorflow.op.Ops;
import org.tensorflow.op.core.Variable;
import org.tensorflow.types.TBool;
import org.tensorflow.types.TFloat32;
import org.tensorflow.types.TInt32;

/**
 * Oscillation state of one weight tensor's integers, as graph variables (algorithms.md §1.4, §1.7):
 * previous integer, direction of its last change, EMA oscillation frequency and, with freezing, the
 * frozen mask, the pinned integers and the integers' running average since freezing began. All of
 * it is checkpointed with the model (role STATE).
 */
public final class OscillationTracker {
  private final String name;
  private final Shape shape;
  private final float momentum;
  private final OscillationSpec.Freezing freezing;
  private final Variable<TFloat32> started;
  private final Variable<TFloat32> previous;
  private final Variable<TFloat32> direction;
  private final Variable<TFloat32> frequency;
  private final Variable<TFloat32> frozen;
  private final Variable<TFloat32> frozenValue;
  private final Variable<TFloat32> average;
  private final Variable<TFloat32> averageStarted;

  /**
   * @param name the weight quantizer's name, e.g. {@code block1/dw/weight}
   * @param shape the weight's shape
   */
  public OscillationTracker(ParamStore params, String name, Shape shape, OscillationSpec spec) {
    this.name = name;
    this.shape = shape;
    this.momentum = (float) spec.tracking().momentum();
    this.freezing = spec.freezing();
    String prefix = name + "/oscillation/";
    this.started = state(params, prefix + "started", Shape.scalar());
    this.previous = state(params, prefix + "previous_integer", shape);
    this.direction = state(params, prefix + "direction", shape);
    this.frequency = state(params, prefix + "frequency", shape);
    if (freezing != null) {
      this.frozen = state(params, prefix + "frozen", shape);
      this.frozenValue = state(params, prefix + "frozen_integer", shape);
      this.average = state(params, prefix + "average_integer", shape);
      this.averageStarted = state(params, prefix + "average_started", Shape.scalar());
    } else {
      this.frozen = null;
      this.frozenValue = null;
      this.average = null;
      this.averageStarted = null;
    }
  }

  private static Variable<TFloat32> state(ParamStore params, String name, Shape shape) {
    return params.getOrCreate(name, shape, ParamRole.STATE, s -> params.fill(s, 0f));
  }

  public String name() {
    return name;
  }

  public Shape shape() {
    return shape;
  }

  public boolean freezes() {
    return freezing != null;
  }

  /**
   * The fake-quantized weight with frozen elements pinned to {@code s * frozen integer}: a frozen
   * element passes no gradient to the latent weight, and its integer's gradient to the step size.
   *
   * @param q the fake-quantized weight
   * @param s the step size it was quantized with (carrying the step-size gradient)
   */
  public Operand<TFloat32> pin(Ops tf, Operand<TFloat32> q, Operand<TFloat32> s) {
    if (freezing == null) {
      return q;
    }
    return tf.select(isFrozen(tf), tf.math.mul(s, frozenValue), q);
  }

  /** The integers the forward pass used: {@code integers} with frozen elements pinned. */
  public Operand<TFloat32> pinIntegers(Ops tf, Operand<TFloat32> integers) {
    if (freezing == null) {
      return integers;
    }
    return tf.select(isFrozen(tf), frozenValue, integers);
  }

  private Operand<TBool> isFrozen(Ops tf) {
    return tf.math.greater(frozen, tf.constant(0.5f));
  }

  /**
   * One tracked forward (§1.4, then §1.7): ops that update the state from the integers this pass
   * used. The assignments wait for {@code after} (the forward's reads of the frozen state).
   *
   * @param integers the pinned integers of this pass ({@link #pinIntegers})
   * @param threshold the freezing threshold of this step (0: off), a scalar; null to track only
   */
  public List<Op> update(Ops tf, Operand<TFloat32> integers, Operand<TFloat32> threshold, Operand<?> after) {
    Operand<TFloat32> m = tf.constant(momentum);
    Operand<TFloat32> keep = tf.constant(1f - momentum);
    // The first tracked pass only records the integers: no change can be seen yet.
    Operand<TFloat32> delta = tf.math.mul(tf.math.round(tf.math.sub(previous, integers)), started);
    Operand<TFloat32> dir = tf.math.sign(delta);
    Operand<TFloat32> reversed = tf.dtypes.cast(
        tf.math.equal(tf.math.mul(direction, dir), tf.constant(-1f)), TFloat32.class);
    Operand<TFloat32> newFrequency = tf.math.add(tf.math.mul(m, reversed), tf.math.mul(keep, frequency));
    // Remember the last non-zero move only: dir is -1, 0 or +1.
    Operand<TFloat32> newDirection =
        tf.math.add(tf.math.mul(direction, tf.math.sub(tf.constant(1f), tf.math.abs(dir))), dir);

    List<Operand<?>> computed = new ArrayList<>(List.of(newFrequency, newDirection, integers, after));
    List<Variable<TFloat32>> targets = new ArrayList<>(List.of(frequency, direction, previous, started));
    List<Operand<TFloat32>> values = new ArrayList<>(List.of(newFrequency, newDirection, integers, tf.constant(1f)));

    if (freezing != null && threshold != null) {
      Operand<TFloat32> on = tf.dtypes.cast(tf.math.greater(threshold, tf.constant(0f)), TFloat32.class);
      // The average starts from the integers of the first pass with freezing on.
      Operand<TFloat32> previousAverage = tf.math.add(tf.math.mul(average, averageStarted),
          tf.math.mul(integers, tf.math.sub(tf.constant(1f), averageStarted)));
      Operand<TFloat32> passes = tf.dtypes.cast(tf.math.greater(newFrequency, threshold), TFloat32.class);
      // Newly frozen: not frozen yet, freezing on, frequency above the threshold. Never unfrozen.
      Operand<TFloat32> newly =
          tf.math.mul(tf.math.mul(tf.math.sub(tf.constant(1f), frozen), on), passes);
      Operand<TFloat32> pinnedTo = freezing.useEma() ? tf.math.rint(previousAverage) : integers;
      Operand<TFloat32> newFrozenValue =
          tf.select(tf.math.greater(newly, tf.constant(0.5f)), pinnedTo, frozenValue);
      Operand<TFloat32> newFrozen = tf.math.maximum(frozen, newly);
      Operand<TFloat32> stepped =
          tf.math.add(tf.math.mul(m, integers), tf.math.mul(keep, previousAverage));
      Operand<TFloat32> newAverage = tf.math.add(average, tf.math.mul(on, tf.math.sub(stepped, average)));
      Operand<TFloat32> newAverageStarted = tf.math.maximum(averageStarted, on);
      computed.addAll(List.of(newFrozenValue, newFrozen, newAverage, newAverageStarted));
      targets.addAll(List.of(frozenValue, frozen, average, averageStarted));
      values.addAll(List.of(newFrozenValue, newFrozen, newAverage, newAverageStarted));
    }
    // Every read of the old state (here and in the forward pass) happens before any assignment.
    Ops gated = tf.withControlDependencies(computed.stream().map(o -> (Op) o).toList());
    List<Op> assigns = new ArrayList<>();
    for (int i = 0; i < targets.size(); i++) {
      assigns.add(gated.assign(targets.get(i), values.get(i)));
    }
    return assigns;
  }

  /**
   * [oscillating count, frequency sum, frozen count, oscillating and not frozen count, elements]:
   * oscillating = frequency above {@code threshold}; for the per-layer and whole-model reports.
   */
  public Operand<TFloat32> statistics(Ops tf, float threshold) {
    Operand<TInt32> all = tf.constant(allAxes());
    Operand<TFloat32> oscillatingMask =
        tf.dtypes.cast(tf.math.greater(frequency, tf.constant(threshold)), TFloat32.class);
    Operand<TFloat32> oscillating = tf.reduceSum(oscillatingMask, all);
    Operand<TFloat32> frozenCount = tf.constant(0f);
    Operand<TFloat32> oscillatingUnfrozen = oscillating;
    if (freezing != null) {
      // A frozen weight keeps its decaying frequency for a while although its integer no longer moves.
      frozenCount = tf.reduceSum(frozen, all);
      oscillatingUnfrozen = tf.reduceSum(tf.math.mul(oscillatingMask, tf.math.sub(tf.constant(1f), frozen)), all);
    }
    return tf.stack(List.of(oscillating, tf.reduceSum(frequency, all), frozenCount, oscillatingUnfrozen,
        tf.constant((float) shape.size())));
  }

  private int[] allAxes() {
    int[] axes = new int[shape.numDimensions()];
    for (int i = 0; i < axes.length; i++) {
      axes[i] = i;
    }
    return axes;
  }
}
