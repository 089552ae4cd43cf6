package dev.kqat.runtime.nn;

import dev.kqat.runtime.quant.ActivationPoint;
import java.util.function.UnaryOperator;
import org.tensorflow.Operand;
import org.tensorflow.op.Ops;
import org.tensorflow.op.train.BatchMatMul;
import org.tensorflow.types.TFloat32;

/**
 * Multi-head self-attention with separate Q, K and V projections (each with a bias and its own
 * quantizers, as VVTQ keeps them; a fused {@code qkv} checkpoint is split on import), with VVTQ's
 * activation points (§3.2) at the input, q, k and v after the head split, the softmax output and
 * attention·v:
 *
 * <pre>
 *   q, k, v = x·Wq + bq, x·Wk + bk, x·Wv + bv          split into h heads of d = C/h features
 *   A = softmax(q·kᵀ / √d) per head                      [batch, heads, tokens, tokens]
 *   out = concat_heads(A·v)·Wo + bo
 * </pre>
 */
public final class Attention {
  private Attention() {}

  /**
   * @param name layer prefix: the projections are {@code name/q}, {@code name/k}, {@code name/v}
   *     and {@code name/proj}
   * @param x [batch, tokens, dim] with static tokens and dim
   */
  public static Operand<TFloat32> multiHeadSelfAttention(NetContext ctx, String name, Operand<TFloat32> x, int heads) {
    return attend(ctx, name, x, heads, UnaryOperator.identity());
  }

  /**
   * The attention of {@link #multiHeadSelfAttention} with {@code adjustScores} applied to the scaled
   * scores [batch, heads, tokens, tokens] before the softmax (Swin adds its position bias and mask).
   */
  static Operand<TFloat32> attend(
      NetContext ctx, String name, Operand<TFloat32> x, int heads, UnaryOperator<Operand<TFloat32>> adjustScores) {
    Ops tf = ctx.tf();
    int dim = Layers.channels(x);
    if (dim % heads != 0) {
      throw new IllegalArgumentException(name + ": width " + dim + " is not divisible by " + heads + " heads");
    }
    long tokens = x.shape().get(1);
    Operand<TFloat32> in = ctx.quantizeActivation(ActivationPoint.ATTENTION_INPUT, name + "/input", x);
    Operand<TFloat32> q = head(ctx, ActivationPoint.QUERY, name, "q", "query", in, tokens, heads);
    Operand<TFloat32> k = head(ctx, ActivationPoint.KEY, name, "k", "key", in, tokens, heads);
    Operand<TFloat32> v = head(ctx, ActivationPoint.VALUE, name, "v", "value", in, tokens, heads);
    long headDim = dim / heads;
    Operand<TFloat32> scores = tf.math.mul(matMul(ctx, q, k, true), tf.constant((float) (1 / Math.sqrt(headDim))));
    Operand<TFloat32> probabilities = ctx.quantizeActivation(
        ActivationPoint.ATTENTION_PROBABILITIES, name + "/probabilities", tf.nn.softmax(adjustScores.apply(scores)));
    // Quantized after the heads are merged: per tensor, the same values as before, and it is then
    // exactly the projection's input.
    Operand<TFloat32> mixed = ctx.quantizeActivation(ActivationPoint.ATTENTION_OUTPUT, name + "/mixed",
        mergeHeads(ctx, matMul(ctx, probabilities, v, false), tokens, dim));
    return Layers.dense(ctx, name + "/proj", mixed, dim, TransformerLayers.INIT_STD);
  }

  /** One projection (Q, K or V) split into heads, with its activation point {@code name/<pointName>}. */
  private static Operand<TFloat32> head(NetContext ctx, ActivationPoint point, String name, String layer,
      String pointName, Operand<TFloat32> x, long tokens, int heads) {
    Operand<TFloat32> projected = Layers.dense(ctx, name + "/" + layer, x, Layers.channels(x), TransformerLayers.INIT_STD);
    return ctx.quantizeActivation(point, name + "/" + pointName, splitHeads(ctx, projected, tokens, heads));
  }

  /** Batched matrix product over the leading axes, {@code b} transposed when {@code transposeB}. */
  static Operand<TFloat32> matMul(NetContext ctx, Operand<TFloat32> a, Operand<TFloat32> b, boolean transposeB) {
    return ctx.tf().train.batchMatMul(a, b, TFloat32.class, BatchMatMul.adjY(transposeB));
  }

  /** [batch, tokens, heads·d] to [batch, heads, tokens, d]. */
  static Operand<TFloat32> splitHeads(NetContext ctx, Operand<TFloat32> x, long tokens, int heads) {
    Ops tf = ctx.tf();
    long headDim = Layers.channels(x) / heads;
    Operand<TFloat32> split = tf.reshape(x, tf.constant(new long[] {-1, tokens, heads, headDim}));
    return tf.linalg.transpose(split, tf.constant(new int[] {0, 2, 1, 3}));
  }

  /** [batch, heads, tokens, d] to [batch, tokens, heads·d]. */
  static Operand<TFloat32> mergeHeads(NetContext ctx, Operand<TFloat32> x, long tokens, int dim) {
    Ops tf = ctx.tf();
    Operand<TFloat32> merged = tf.linalg.transpose(x, tf.constant(new int[] {0, 2, 1, 3}));
    return tf.reshape(merged, tf.constant(new long[] {-1, tokens, dim}));
  }
}
