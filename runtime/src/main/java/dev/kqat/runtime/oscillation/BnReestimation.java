package dev.kqat.runtime.oscillation;

import dev.kqat.runtime.nn.NetContext.BnStatistics;
import dev.kqat.runtime.tf.ParamRole;
import dev.kqat.runtime.tf.ParamStore;
import java.util.ArrayList;
import java.util.List;
import org.tensorflow.Operand;
import org.tensorflow.ndarray.Shape;
import org.tensorflow.op.Op;
import org.tensorflow.op.Ops;
import org.tensorflow.op.core.Variable;
import org.tensorflow.types.TFloat32;

/**
 * BN re-estimation (algorithms.md §1.8) as graph ops over a BN-statistics forward pass: sums of
 * every BN layer's per-batch mean and variance (unbiased) over N training batches, then running
 * statistics := their averages. The Java side runs {@link #reset()}, N × {@link #accumulate()}
 * (feeding a batch each), then {@link #apply()}.
 */
public final class BnReestimation {
  private final Op reset;
  private final Op accumulate;
  private final Op apply;

  public BnReestimation(ParamStore params, List<BnStatistics> layers) {
    Ops tf = params.tf();
    Variable<TFloat32> batches = params.getOrCreate(
        "bn_reestimation/batches", Shape.scalar(), ParamRole.STATE, s -> params.fill(s, 0f));
    List<Op> resets = new ArrayList<>(List.of(tf.assign(batches, tf.constant(0f))));
    List<Op> adds = new ArrayList<>(List.of(tf.assignAdd(batches, tf.constant(1f))));
    List<Op> applies = new ArrayList<>();
    for (BnStatistics l : layers) {
      Shape shape = l.movingMean().shape();
      Variable<TFloat32> meanSum = params.getOrCreate(
          l.name() + "/bn_reestimation/mean_sum", shape, ParamRole.STATE, s -> params.fill(s, 0f));
      Variable<TFloat32> varianceSum = params.getOrCreate(
          l.name() + "/bn_reestimation/variance_sum", shape, ParamRole.STATE, s -> params.fill(s, 0f));
      resets.add(tf.assign(meanSum, tf.zerosLike(meanSum)));
      resets.add(tf.assign(varianceSum, tf.zerosLike(varianceSum)));
      adds.add(tf.assignAdd(meanSum, l.batchMean()));
      adds.add(tf.assignAdd(varianceSum, l.batchVariance()));
      Operand<TFloat32> count = tf.math.maximum(batches, tf.constant(1f));
      applies.add(tf.assign(l.movingMean(), tf.math.div(meanSum, count)));
      applies.add(tf.assign(l.movingVariance(), tf.math.div(varianceSum, count)));
    }
    this.reset = tf.withControlDependencies(resets).withName("bn_reestimation_reset").noOp();
    this.accumulate = tf.withControlDependencies(adds).withName("bn_reestimation_accumulate").noOp();
    this.apply = tf.withControlDependencies(applies).withName("bn_reestimation_apply").noOp();
  }

  /** Zeroes the sums. */
  public Op reset() {
    return reset;
  }

  /** Adds the fed batch's statistics to the sums. */
  public Op accumulate() {
    return accumulate;
  }

  /** Running statistics := the sums' averages over the accumulated batches. */
  public Op apply() {
    return apply;
  }
}
