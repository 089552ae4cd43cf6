package dev.kqat.runtime.nn;

import dev.kqat.runtime.tf.ParamStore;
import dev.kqat.runtime.tf.ParamRole;
import dev.kqat.runtime.quant.LayerKind;
import dev.kqat.runtime.quant.LayerQuant;
import java.util.List;
import org.tensorflow.Operand;
import org.tensorflow.ndarray.Shape;
import org.tensorflow.op.Ops;
import org.tensorflow.op.core.Variable;
import org.tensorflow.op.nn.FusedBatchNorm;
import org.tensorflow.types.TFloat32;
import org.tensorflow.types.TInt32;
import org.tensorflow.types.TInt64;

/**
 * Layers as functions over a {@link NetContext}. Tensors are NHWC; kernels HWIO (output channels
 * last), so per-channel step sizes broadcast over the kernel's trailing axis. Weight layers quantize
 * their kernel and input as the context's plan says; batch norm is never folded (algorithms.md
 * §1.3).
 */
public final class Layers {
  /** PyTorch's default BN epsilon (Keras defaults to 1e-3). */
  public static final float BN_EPSILON = 1e-5f;
  /** Weight of the current batch in the running statistics (PyTorch momentum 0.1). */
  public static final float BN_MOMENTUM = 0.1f;

  private Layers() {}

  /** 2-D convolution, "same" padding, no bias (a batch norm follows). */
  public static Operand<TFloat32> conv2d(
      NetContext ctx, String name, Operand<TFloat32> x, int outChannels, int kernel, int stride) {
    double std = Math.sqrt(2.0 / (kernel * kernel * outChannels)); // Kaiming normal, fan-out
    return conv2d(ctx, name, x, outChannels, kernel, stride, std);
  }

  /** 2-D convolution, "same" padding, no bias, kernel init normal(0, {@code std}). */
  public static Operand<TFloat32> conv2d(
      NetContext ctx, String name, Operand<TFloat32> x, int outChannels, int kernel, int stride, double std) {
    Ops tf = ctx.tf();
    int inChannels = channels(x);
    LayerQuant plan = ctx.enterLayer(name, LayerKind.CONV);
    Shape shape = Shape.of(kernel, kernel, inChannels, outChannels);
    Variable<TFloat32> w =
        ctx.params().getOrCreate(name + "/kernel", shape, ParamRole.WEIGHT,
            s -> ctx.params().normal(name + "/kernel", s, std));
    Operand<TFloat32> in = ctx.quantizeInput(name, plan, x);
    Operand<TFloat32> k = ctx.quantizeWeight(name, plan, w, Shape.of(outChannels));
    Operand<TFloat32> out = tf.nn.conv2d(in, k, List.of(1L, (long) stride, (long) stride, 1L), "SAME");
    ctx.recordCost(name, LayerKind.CONV, shape, out);
    return out;
  }

  /** Depth-wise 3×3 (or k×k) convolution with channel multiplier 1, "same" padding, no bias. */
  public static Operand<TFloat32> depthwiseConv2d(
      NetContext ctx, String name, Operand<TFloat32> x, int kernel, int stride) {
    Ops tf = ctx.tf();
    int channels = channels(x);
    LayerQuant plan = ctx.enterLayer(name, LayerKind.DEPTHWISE_CONV);
    Shape shape = Shape.of(kernel, kernel, channels, 1);
    // PyTorch's fan-out of a [C,1,k,k] depth-wise weight is C*k*k.
    double std = Math.sqrt(2.0 / (kernel * kernel * channels));
    Variable<TFloat32> w =
        ctx.params().getOrCreate(name + "/kernel", shape, ParamRole.WEIGHT,
            s -> ctx.params().normal(name + "/kernel", s, std));
    Operand<TFloat32> in = ctx.quantizeInput(name, plan, x);
    Operand<TFloat32> k = ctx.quantizeWeight(name, plan, w, Shape.of(channels, 1));
    Operand<TFloat32> out = tf.nn.depthwiseConv2dNative(in, k, List.of(1L, (long) stride, (long) stride, 1L), "SAME");
    ctx.recordCost(name, LayerKind.DEPTHWISE_CONV, shape, out);
    return out;
  }

  /** Fully connected layer with bias on a [batch, features] input; kernel init normal(0, 0.01). */
  public static Operand<TFloat32> dense(NetContext ctx, String name, Operand<TFloat32> x, int units) {
    return dense(ctx, name, x, units, 0.01);
  }

  /**
   * Fully connected layer with bias, kernel init normal(0, {@code std}). A [batch, tokens, features]
   * input is applied token by token (its cost counts every token).
   */
  public static Operand<TFloat32> dense(NetContext ctx, String name, Operand<TFloat32> x, int units, double std) {
    return dense(ctx, name, x, units, std, true);
  }

  /** As {@link #dense(NetContext, String, Operand, int, double)}, with or without a bias. */
  public static Operand<TFloat32> dense(
      NetContext ctx, String name, Operand<TFloat32> x, int units, double std, boolean withBias) {
    return dense(ctx, name, x, units, std, withBias, LayerKind.DENSE);
  }

  /** A dense layer that a policy sees as {@code kind} (e.g. Swin's {@link LayerKind#PATCH_MERGING}). */
  public static Operand<TFloat32> dense(
      NetContext ctx, String name, Operand<TFloat32> x, int units, double std, boolean withBias, LayerKind kind) {
    Ops tf = ctx.tf();
    int in = channels(x);
    LayerQuant plan = ctx.enterLayer(name, kind);
    Shape shape = Shape.of(in, units);
    Variable<TFloat32> w =
        ctx.params().getOrCreate(name + "/kernel", shape, ParamRole.WEIGHT,
            s -> ctx.params().normal(name + "/kernel", s, std));
    Variable<TFloat32> b = !withBias ? null
        : ctx.params().getOrCreate(name + "/bias", Shape.of(units), ParamRole.WEIGHT, s -> ctx.params().fill(s, 0f));
    Operand<TFloat32> input = ctx.quantizeInput(name, plan, x);
    Operand<TFloat32> k = ctx.quantizeWeight(name, plan, w, Shape.of(units));
    Shape inShape = x.shape();
    // MatMul takes matrices: token axes are folded into the batch and back.
    Operand<TFloat32> flat = inShape.numDimensions() == 2 ? input : tf.reshape(input, tf.constant(new long[] {-1, in}));
    Operand<TFloat32> out = tf.linalg.matMul(flat, k);
    if (b != null) {
      out = tf.nn.biasAdd(out, b);
    }
    if (inShape.numDimensions() > 2) {
      long[] outDims = inShape.asArray();
      outDims[0] = -1;
      outDims[outDims.length - 1] = units;
      out = tf.reshape(out, tf.constant(outDims));
    }
    ctx.recordCost(name, kind, shape, out);
    return out;
  }

  /**
   * Batch normalisation. Training: batch statistics, and running statistics updated with
   * momentum 0.1 from the unbiased batch variance (as PyTorch). Evaluation: running statistics.
   */
  public static Operand<TFloat32> batchNorm(NetContext ctx, String name, Operand<TFloat32> x) {
    return batchNorm(ctx, name, x, BN_EPSILON);
  }

  /**
   * Batch normalisation with an explicit epsilon: Keras' MobileNets and torchvision's MobileNetV3
   * use 1e-3, and pretrained statistics are only right with the epsilon they were trained with.
   */
  public static Operand<TFloat32> batchNorm(NetContext ctx, String name, Operand<TFloat32> x, float epsilon) {
    PassBits.LayerBits switching = ctx.precedingLayerBits();
    if (switching != null) {
      return switchableBatchNorm(ctx, name, x, epsilon, switching);
    }
    Ops tf = ctx.tf();
    int c = channels(x);
    ParamStore p = ctx.params();
    Shape shape = Shape.of(c);
    Variable<TFloat32> gamma =
        p.getOrCreate(name + "/gamma", shape, ParamRole.WEIGHT, s -> p.fill(s, 1f));
    Variable<TFloat32> beta =
        p.getOrCreate(name + "/beta", shape, ParamRole.WEIGHT, s -> p.fill(s, 0f));
    Variable<TFloat32> mean =
        p.getOrCreate(name + "/moving_mean", shape, ParamRole.BN_STATISTIC, s -> p.fill(s, 0f));
    Variable<TFloat32> var =
        p.getOrCreate(name + "/moving_variance", shape, ParamRole.BN_STATISTIC, s -> p.fill(s, 1f));
    if (ctx.mode() == PassMode.BN_STATISTICS) {
      Operand<TFloat32> empty = tf.constant(new float[0]);
      FusedBatchNorm<TFloat32, TFloat32> bn = tf.nn.fusedBatchNorm(x, gamma, beta, empty, empty,
          FusedBatchNorm.epsilon(epsilon), FusedBatchNorm.isTraining(true));
      ctx.addBatchStatistics(new NetContext.BnStatistics(name, bn.batchMean(), bn.batchVariance(), mean, var));
      return bn.y();
    }
    if (!ctx.training()) {
      return tf.nn.fusedBatchNorm(x, gamma, beta, mean, var,
              FusedBatchNorm.epsilon(epsilon), FusedBatchNorm.isTraining(false))
          .y();
    }
    FusedBatchNorm<TFloat32, TFloat32> bn = trainingBatchNorm(tf, x, gamma, beta, epsilon);
    Operand<TFloat32> m = tf.constant(BN_MOMENTUM);
    // batchVariance carries Bessel's correction in TF, like PyTorch's running_var update.
    ctx.addUpdate(tf.assignSub(mean, tf.math.mul(tf.math.sub(mean, bn.batchMean()), m)));
    ctx.addUpdate(tf.assignSub(var, tf.math.mul(tf.math.sub(var, bn.batchVariance()), m)));
    return bn.y();
  }

  private static FusedBatchNorm<TFloat32, TFloat32> trainingBatchNorm(Ops tf, Operand<TFloat32> x,
      Operand<TFloat32> gamma, Operand<TFloat32> beta, float epsilon) {
    Operand<TFloat32> empty = tf.constant(new float[0]);
    return tf.nn.fusedBatchNorm(x, gamma, beta, empty, empty,
        FusedBatchNorm.epsilon(epsilon), FusedBatchNorm.isTraining(true));
  }

  /**
   * RFQuant's switchable batch norm (algorithms.md §2.4): one set of γ, β and running statistics per
   * (weight bits, input bits) pair of the preceding layer, rows of {@code [pairs, C]} tables, the row
   * of the pass's bits selected by a one-hot product (so only it receives gradient and, in training,
   * only its running statistics move). A {@link PassMode#BN_STATISTICS} pass normalises with the
   * batch's statistics and records them for the pass's row (BN calibration, §2.8).
   */
  private static Operand<TFloat32> switchableBatchNorm(NetContext ctx, String name, Operand<TFloat32> x, float epsilon,
      PassBits.LayerBits bits) {
    Ops tf = ctx.tf();
    int c = channels(x);
    ParamStore p = ctx.params();
    int k = bits.candidates().size();
    Shape table = Shape.of((long) k * k, c);
    Variable<TFloat32> gammas = p.getOrCreate(name + "/gamma_per_bits", table, ParamRole.WEIGHT, s -> p.fill(s, 1f));
    Variable<TFloat32> betas = p.getOrCreate(name + "/beta_per_bits", table, ParamRole.WEIGHT, s -> p.fill(s, 0f));
    Variable<TFloat32> means = p.getOrCreate(name + "/moving_mean_per_bits", table, ParamRole.BN_STATISTIC, s -> p.fill(s, 0f));
    Variable<TFloat32> vars = p.getOrCreate(name + "/moving_variance_per_bits", table, ParamRole.BN_STATISTIC, s -> p.fill(s, 1f));
    Operand<TInt32> lowest = tf.constant(bits.candidates().lowest());
    Operand<TInt32> row = tf.math.add(tf.math.mul(tf.math.sub(bits.weight(), lowest), tf.constant(k)),
        tf.math.sub(bits.input(), lowest));
    Operand<TFloat32> rowMask = tf.expandDims(tf.oneHot(row, tf.constant(k * k), tf.constant(1f), tf.constant(0f)),
        tf.constant(1));
    Operand<TFloat32> gamma = selectRow(tf, gammas, rowMask);
    Operand<TFloat32> beta = selectRow(tf, betas, rowMask);
    Operand<TFloat32> y;
    if (ctx.mode() == PassMode.BN_STATISTICS) {
      FusedBatchNorm<TFloat32, TFloat32> bn = trainingBatchNorm(tf, x, gamma, beta, epsilon);
      // The statistics as whole tables, the pass's row replaced by the batch's: averaging them over
      // batches of one configuration calibrates that row and leaves the others as they are (§2.8).
      Operand<TFloat32> keep = tf.math.sub(tf.constant(1f), rowMask);
      ctx.addBatchStatistics(new NetContext.BnStatistics(name,
          tf.math.add(tf.math.mul(means, keep), tf.math.mul(rowMask, bn.batchMean())),
          tf.math.add(tf.math.mul(vars, keep), tf.math.mul(rowMask, bn.batchVariance())), means, vars));
      y = bn.y();
    } else if (!ctx.training()) {
      y = tf.nn.fusedBatchNorm(x, gamma, beta, selectRow(tf, means, rowMask), selectRow(tf, vars, rowMask),
          FusedBatchNorm.epsilon(epsilon), FusedBatchNorm.isTraining(false)).y();
    } else {
      FusedBatchNorm<TFloat32, TFloat32> bn = trainingBatchNorm(tf, x, gamma, beta, epsilon);
      Operand<TFloat32> m = tf.math.mul(rowMask, tf.constant(BN_MOMENTUM));
      ctx.addUpdate(tf.assignSub(means, tf.math.mul(tf.math.sub(means, bn.batchMean()), m)));
      ctx.addUpdate(tf.assignSub(vars, tf.math.mul(tf.math.sub(vars, bn.batchVariance()), m)));
      y = bn.y();
    }
    return ctx.switchedFeature(bits.layer(), y);
  }

  /** Row {@code rowMask} (one-hot, {@code [rows, 1]}) of a {@code [rows, C]} table, as {@code [C]}. */
  private static Operand<TFloat32> selectRow(Ops tf, Operand<TFloat32> table, Operand<TFloat32> rowMask) {
    return tf.reduceSum(tf.math.mul(table, rowMask), tf.constant(0));
  }

  public static Operand<TFloat32> relu(NetContext ctx, Operand<TFloat32> x) {
    return ctx.tf().nn.relu(x);
  }

  public static Operand<TFloat32> relu6(NetContext ctx, Operand<TFloat32> x) {
    return ctx.tf().nn.relu6(x);
  }

  /** {@code x * relu6(x + 3) / 6} (MobileNetV3). */
  public static Operand<TFloat32> hardSwish(NetContext ctx, Operand<TFloat32> x) {
    return ctx.tf().math.mul(x, hardSigmoid(ctx, x));
  }

  /** {@code relu6(x + 3) / 6}, the gate of squeeze-excite in MobileNetV3. */
  public static Operand<TFloat32> hardSigmoid(NetContext ctx, Operand<TFloat32> x) {
    Ops tf = ctx.tf();
    return tf.math.div(tf.nn.relu6(tf.math.add(x, tf.constant(3f))), tf.constant(6f));
  }

  /** Mean over the spatial axes: [N,H,W,C] to [N,C]. */
  public static Operand<TFloat32> globalAvgPool(NetContext ctx, Operand<TFloat32> x) {
    Ops tf = ctx.tf();
    return tf.math.mean(x, tf.constant(new int[] {1, 2}));
  }

  public static Operand<TFloat32> maxPool(NetContext ctx, Operand<TFloat32> x, int size, int stride) {
    Ops tf = ctx.tf();
    return tf.nn.maxPool(x, tf.constant(new int[] {1, size, size, 1}),
        tf.constant(new int[] {1, stride, stride, 1}), "SAME");
  }

  public static Operand<TFloat32> avgPool(NetContext ctx, Operand<TFloat32> x, int size, int stride) {
    return ctx.tf().nn.avgPool(x, List.of(1L, (long) size, (long) size, 1L),
        List.of(1L, (long) stride, (long) stride, 1L), "SAME");
  }

  public static Operand<TFloat32> add(NetContext ctx, Operand<TFloat32> a, Operand<TFloat32> b) {
    return ctx.tf().math.add(a, b);
  }

  /**
   * Inverted dropout in training, identity in evaluation. The mask is drawn from a stateless
   * generator keyed by (step, layer), so a resumed run draws the same masks.
   */
  public static Operand<TFloat32> dropout(NetContext ctx, String name, Operand<TFloat32> x, float rate) {
    if (!ctx.training() || rate <= 0f) {
      return x;
    }
    return ctx.tf().math.mul(x, keepMask(ctx, name, ctx.tf().shape(x, TInt64.class), rate));
  }

  /**
   * A mask of {@code shape} holding {@code 1/(1-rate)} where kept and 0 where dropped (probability
   * {@code rate}), from a stateless generator keyed by (step, {@code name}): a resumed run draws the
   * same masks. Dropout masks elements, stochastic depth whole samples.
   */
  static Operand<TFloat32> keepMask(NetContext ctx, String name, Operand<TInt64> shape, float rate) {
    Ops tf = ctx.tf();
    Operand<TInt64> key =
        tf.math.add(ctx.stepKey(), tf.constant(new long[] {0L, name.hashCode()}));
    Operand<TFloat32> u = tf.random.statelessRandomUniform(shape, key, TFloat32.class);
    Operand<TFloat32> keep = tf.dtypes.cast(tf.math.greaterEqual(u, tf.constant(rate)), TFloat32.class);
    return tf.math.div(keep, tf.constant(1f - rate));
  }

  /** Flattens [N, ...] to [N, features]. */
  public static Operand<TFloat32> flatten(NetContext ctx, Operand<TFloat32> x) {
    Ops tf = ctx.tf();
    Shape s = x.shape();
    long features = 1;
    for (int i = 1; i < s.numDimensions(); i++) {
      features *= s.get(i);
    }
    return tf.reshape(x, tf.constant(new long[] {-1, features}));
  }

  /** The static size of the last (channel / feature) axis. */
  public static int channels(Operand<TFloat32> x) {
    Shape s = x.shape();
    long c = s.get(s.numDimensions() - 1);
    if (c < 0) {
      throw new IllegalStateException("channel dimension must be static, got shape " + s);
    }
    return (int) c;
  }
}
