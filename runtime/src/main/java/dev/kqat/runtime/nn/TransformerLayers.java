package dev.kqat.runtime.nn;

import dev.kqat.runtime.quant.ActivationPoint;
import dev.kqat.runtime.tf.ParamRole;
import dev.kqat.runtime.tf.ParamStore;
import java.util.List;
import org.tensorflow.Operand;
import org.tensorflow.ndarray.Shape;
import org.tensorflow.op.Ops;
import org.tensorflow.op.core.Variable;
import org.tensorflow.types.TFloat32;
import org.tensorflow.types.TInt32;
import org.tensorflow.types.TInt64;

/**
 * The layers of a vision transformer besides attention ({@link Attention}): tokens are
 * [batch, tokens, features]. Initialisation follows timm's ViT (normal, std 0.02, for linear
 * kernels, the patch projection, the class token and the position embedding).
 */
public final class TransformerLayers {
  /** timm's ViT initialisation scale. */
  public static final double INIT_STD = 0.02;

  private TransformerLayers() {}

  /**
   * Layer normalisation over the feature axis: {@code (x - mean) / sqrt(var + epsilon) * gamma + beta}
   * with the biased variance, as PyTorch's {@code LayerNorm}.
   */
  public static Operand<TFloat32> layerNorm(NetContext ctx, String name, Operand<TFloat32> x, float epsilon) {
    Ops tf = ctx.tf();
    ParamStore p = ctx.params();
    Shape shape = Shape.of(Layers.channels(x));
    Variable<TFloat32> gamma = p.getOrCreate(name + "/gamma", shape, ParamRole.WEIGHT, s -> p.fill(s, 1f));
    Variable<TFloat32> beta = p.getOrCreate(name + "/beta", shape, ParamRole.WEIGHT, s -> p.fill(s, 0f));
    // An int32 axis: the C++ Mean gradient crashes on an int64 one.
    Operand<TInt32> last = tf.constant(new int[] {-1});
    Operand<TFloat32> mean = tf.math.mean(x, last, org.tensorflow.op.math.Mean.keepDims(true));
    Operand<TFloat32> centred = tf.math.sub(x, mean);
    Operand<TFloat32> variance =
        tf.math.mean(tf.math.square(centred), last, org.tensorflow.op.math.Mean.keepDims(true));
    Operand<TFloat32> normalised = tf.math.mul(centred, tf.math.rsqrt(tf.math.add(variance, tf.constant(epsilon))));
    return tf.math.add(tf.math.mul(normalised, gamma), beta);
  }

  /** The exact GELU, {@code x/2 · (1 + erf(x/√2))} (not the tanh approximation). */
  public static Operand<TFloat32> gelu(NetContext ctx, Operand<TFloat32> x) {
    Ops tf = ctx.tf();
    Operand<TFloat32> erf = tf.math.erf(tf.math.mul(x, tf.constant((float) (1 / Math.sqrt(2)))));
    return tf.math.mul(tf.math.mul(x, tf.constant(0.5f)), tf.math.add(erf, tf.constant(1f)));
  }

  /**
   * Patch embedding: a {@code patch}×{@code patch} convolution with stride {@code patch} and a bias,
   * flattened to [batch, patches, dim] in row-major patch order.
   */
  public static Operand<TFloat32> patchEmbedding(
      NetContext ctx, String name, Operand<TFloat32> images, int patch, int dim) {
    Operand<TFloat32> grid = patchProjection(ctx, name, images, patch, dim);
    long patches = grid.shape().get(1) * grid.shape().get(2);
    return ctx.tf().reshape(grid, ctx.tf().constant(new long[] {-1, patches, dim}));
  }

  /** The patch projection as a [batch, H/patch, W/patch, dim] map (Swin keeps it spatial). */
  public static Operand<TFloat32> patchProjection(
      NetContext ctx, String name, Operand<TFloat32> images, int patch, int dim) {
    Shape in = images.shape();
    if (in.get(1) % patch != 0 || in.get(2) % patch != 0) {
      throw new IllegalArgumentException(
          "image size " + in.get(1) + "x" + in.get(2) + " is not a multiple of the patch size " + patch);
    }
    ParamStore p = ctx.params();
    // With the image a multiple of the patch, "SAME" pads nothing: each output is exactly one patch.
    Operand<TFloat32> grid = Layers.conv2d(ctx, name, images, dim, patch, patch, INIT_STD);
    Variable<TFloat32> bias = p.getOrCreate(name + "/bias", Shape.of(dim), ParamRole.WEIGHT, s -> p.fill(s, 0f));
    return ctx.tf().nn.biasAdd(grid, bias);
  }

  /**
   * Prepends the learned class token and adds the learned position embedding (one per token,
   * class token included). Both are kept in floating point and out of weight decay.
   */
  public static Operand<TFloat32> classTokenAndPositions(NetContext ctx, String name, Operand<TFloat32> tokens) {
    Ops tf = ctx.tf();
    ParamStore p = ctx.params();
    int dim = Layers.channels(tokens);
    long count = tokens.shape().get(1) + 1;
    Variable<TFloat32> cls = p.getOrCreate(name + "/cls_token", Shape.of(1, 1, dim), ParamRole.WEIGHT,
        s -> p.normal(name + "/cls_token", s, INIT_STD));
    Variable<TFloat32> positions = p.getOrCreate(name + "/pos_embed", Shape.of(1, count, dim), ParamRole.WEIGHT,
        s -> p.normal(name + "/pos_embed", s, INIT_STD));
    p.excludeFromDecay(name + "/cls_token");
    p.excludeFromDecay(name + "/pos_embed");
    // int32 shapes: BroadcastTo's C++ gradient pairs this shape with an int32 one.
    Operand<TInt32> batch = tf.slice(tf.shape(tokens), tf.constant(new int[] {0}), tf.constant(new int[] {1}));
    Operand<TInt32> clsShape = tf.concat(List.of(batch, tf.constant(new int[] {1, dim})), tf.constant(0));
    Operand<TFloat32> withCls = tf.concat(List.of(tf.broadcastTo(cls, clsShape), tokens), tf.constant(1));
    return tf.math.add(withCls, positions);
  }

  /** The token at position 0 (the class token): [batch, tokens, dim] to [batch, dim]. */
  public static Operand<TFloat32> classToken(NetContext ctx, Operand<TFloat32> tokens) {
    Ops tf = ctx.tf();
    return tf.gather(tokens, tf.constant(0), tf.constant(1));
  }

  /**
   * The transformer MLP: fc1 → exact GELU → fc2, with activation points at its input
   * ({@code name/input}) and at the GELU output ({@code name/hidden}).
   */
  public static Operand<TFloat32> mlp(NetContext ctx, String name, Operand<TFloat32> x, int hidden) {
    int dim = Layers.channels(x);
    Operand<TFloat32> in = ctx.quantizeActivation(ActivationPoint.MLP_INPUT, name + "/input", x);
    Operand<TFloat32> h = Layers.dense(ctx, name + "/fc1", in, hidden, INIT_STD);
    h = ctx.quantizeActivation(ActivationPoint.MLP_HIDDEN, name + "/hidden", gelu(ctx, h));
    return Layers.dense(ctx, name + "/fc2", h, dim, INIT_STD);
  }

  /**
   * Stochastic depth: in training, each sample's residual branch is dropped with probability
   * {@code rate} and kept ones are scaled by {@code 1/(1-rate)}; identity in evaluation. The mask
   * comes from a stateless generator keyed by (step, layer), so a resumed run draws the same masks.
   */
  public static Operand<TFloat32> dropPath(NetContext ctx, String name, Operand<TFloat32> x, float rate) {
    if (!ctx.training() || rate <= 0f) {
      return x;
    }
    Ops tf = ctx.tf();
    Operand<TInt64> batch = tf.slice(tf.shape(x, TInt64.class), tf.constant(new long[] {0}), tf.constant(new long[] {1}));
    long[] ones = new long[x.shape().numDimensions() - 1];
    java.util.Arrays.fill(ones, 1L);
    Operand<TInt64> perSample = tf.concat(List.of(batch, tf.constant(ones)), tf.constant(0));
    return tf.math.mul(x, Layers.keepMask(ctx, name, perSample, rate));
  }

  /** timm's stochastic-depth rule: the rate rises linearly from 0 at the first of {@code blocks} to {@code last}. */
  public static float dropPathRate(double last, int block, int blocks) {
    return blocks == 1 ? 0f : (float) (last * block / (blocks - 1));
  }

}
