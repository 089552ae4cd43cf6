package dev.kqat.runtime.train;

import dev.kqat.runtime.tf.Param;
import dev.kqat.runtime.tf.ParamRole;
import dev.kqat.runtime.tf.ParamStore;
import java.util.ArrayList;
import java.util.List;
import org.tensorflow.Operand;
import org.tensorflow.Output;
import org.tensorflow.op.Op;
import org.tensorflow.op.Ops;
import org.tensorflow.op.core.Variable;
import org.tensorflow.op.train.ApplyMomentum;
import org.tensorflow.types.TFloat32;

/**
 * In-graph parameter updates with TensorFlow's training kernels. Slots are STATE variables in the
 * {@link ParamStore}, so checkpoints carry them and a resumed run continues exactly.
 */
final class Optimizers {
  private Optimizers() {}

  /**
   * @param tf op builder for the updates, gated on every gradient so that no update races a
   *     gradient that still reads the old value; slots are created through {@code store}
   */
  static List<Op> apply(
      ParamStore store,
      Ops tf,
      String group,
      OptimizerConfig config,
      List<Param> params,
      List<Output<TFloat32>> grads,
      Operand<TFloat32> learningRate) {
    List<Op> ops = new ArrayList<>();
    if (params.isEmpty()) {
      return ops;
    }
    if (config.kind() == OptimizerConfig.Kind.ADAM) {
      return adam(store, tf, group, config, params, grads, learningRate);
    }
    if (config.kind() == OptimizerConfig.Kind.ADAMW) {
      return adamW(store, tf, group, config, params, grads, learningRate);
    }
    Operand<TFloat32> momentum = tf.constant((float) config.momentum());
    for (int i = 0; i < params.size(); i++) {
      Param p = params.get(i);
      Operand<TFloat32> g = withDecay(tf, grads.get(i), p.variable(), config.weightDecay());
      Variable<TFloat32> accum = zeroSlot(store, group, p, "momentum");
      ops.add(tf.train.applyMomentum(p.variable(), accum, learningRate, g, momentum,
          ApplyMomentum.useNesterov(config.nesterov())));
    }
    return ops;
  }

  private static List<Op> adam(
      ParamStore store,
      Ops tf,
      String group,
      OptimizerConfig config,
      List<Param> params,
      List<Output<TFloat32>> grads,
      Operand<TFloat32> learningRate) {
    Operand<TFloat32> b1 = tf.constant((float) config.beta1());
    Operand<TFloat32> b2 = tf.constant((float) config.beta2());
    Operand<TFloat32> eps = tf.constant((float) config.epsilon());
    Variable<TFloat32> b1Power = scalarSlot(store, group, "beta1_power", (float) config.beta1());
    Variable<TFloat32> b2Power = scalarSlot(store, group, "beta2_power", (float) config.beta2());
    List<Op> applies = new ArrayList<>();
    for (int i = 0; i < params.size(); i++) {
      Param p = params.get(i);
      Operand<TFloat32> g = withDecay(tf, grads.get(i), p.variable(), config.weightDecay());
      Variable<TFloat32> m = zeroSlot(store, group, p, "m");
      Variable<TFloat32> v = zeroSlot(store, group, p, "v");
      applies.add(tf.train.applyAdam(p.variable(), m, v, b1Power, b2Power, learningRate, b1, b2, eps, g));
    }
    // Advance the bias-correction powers only after every update has read them.
    Ops after = tf.withControlDependencies(applies);
    List<Op> ops = new ArrayList<>(applies);
    ops.add(after.assign(b1Power, after.math.mul(b1Power, b1)));
    ops.add(after.assign(b2Power, after.math.mul(b2Power, b2)));
    return ops;
  }

  /**
   * AdamW as PyTorch's {@code torch.optim.AdamW} (and timm's): decoupled decay {@code w *= 1 - lr·wd}
   * on the weights {@link ParamStore#decoupledDecayApplies} selects, then the Adam step with bias
   * correction and ε added to {@code sqrt(v_hat)}: {@code w -= lr/(1-b1^t) · m / (sqrt(v)/sqrt(1-b2^t) + ε)}.
   */
  private static List<Op> adamW(
      ParamStore store,
      Ops tf,
      String group,
      OptimizerConfig config,
      List<Param> params,
      List<Output<TFloat32>> grads,
      Operand<TFloat32> learningRate) {
    Operand<TFloat32> b1 = tf.constant((float) config.beta1());
    Operand<TFloat32> b2 = tf.constant((float) config.beta2());
    Operand<TFloat32> one = tf.constant(1f);
    Variable<TFloat32> step = scalarSlot(store, group, "step", 0f);
    Operand<TFloat32> t = tf.math.add(step, one);
    Operand<TFloat32> stepSize = tf.math.div(learningRate, tf.math.sub(one, tf.math.pow(b1, t)));
    Operand<TFloat32> correction2 = tf.math.sqrt(tf.math.sub(one, tf.math.pow(b2, t)));
    Operand<TFloat32> eps = tf.constant((float) config.epsilon());
    List<Op> applies = new ArrayList<>();
    for (int i = 0; i < params.size(); i++) {
      Param p = params.get(i);
      Operand<TFloat32> g = grads.get(i);
      Variable<TFloat32> m = zeroSlot(store, group, p, "m");
      Variable<TFloat32> v = zeroSlot(store, group, p, "v");
      Operand<TFloat32> mNew = tf.math.add(tf.math.mul(b1, m), tf.math.mul(tf.math.sub(one, b1), g));
      Operand<TFloat32> vNew = tf.math.add(tf.math.mul(b2, v), tf.math.mul(tf.math.sub(one, b2), tf.math.square(g)));
      Operand<TFloat32> w = p.variable();
      if (store.decoupledDecayApplies(p) && config.weightDecay() > 0) {
        w = tf.math.mul(w, tf.math.sub(one, tf.math.mul(learningRate, tf.constant((float) config.weightDecay()))));
      }
      Operand<TFloat32> denominator = tf.math.add(tf.math.div(tf.math.sqrt(vNew), correction2), eps);
      Operand<TFloat32> wNew = tf.math.sub(w, tf.math.mul(stepSize, tf.math.div(mNew, denominator)));
      applies.add(tf.assign(m, mNew));
      applies.add(tf.assign(v, vNew));
      applies.add(tf.assign(p.variable(), wNew));
    }
    // Count the step only after every update has read it.
    Ops after = tf.withControlDependencies(applies);
    List<Op> ops = new ArrayList<>(applies);
    ops.add(after.assign(step, after.math.add(step, one)));
    return ops;
  }

  /** A zero-initialised optimizer slot of {@code p}'s shape, {@code opt/<group>/<param>/<slot>}. */
  private static Variable<TFloat32> zeroSlot(ParamStore store, String group, Param p, String slot) {
    return store.getOrCreate("opt/" + group + "/" + p.name() + "/" + slot, p.shape(), ParamRole.OPTIMIZER_SLOT,
        s -> store.fill(s, 0f));
  }

  /** A scalar optimizer slot of a parameter group, {@code opt/<group>/<slot>}. */
  private static Variable<TFloat32> scalarSlot(ParamStore store, String group, String slot, float initial) {
    return store.getOrCreate("opt/" + group + "/" + slot, org.tensorflow.ndarray.Shape.scalar(), ParamRole.OPTIMIZER_SLOT,
        s -> store.fill(s, initial));
  }

  private static Operand<TFloat32> withDecay(
      Ops tf, Operand<TFloat32> grad, Operand<TFloat32> var, double weightDecay) {
    if (weightDecay == 0.0) {
      return grad;
    }
    return tf.math.add(grad, tf.math.mul(var, tf.constant((float) weightDecay)));
  }
}
