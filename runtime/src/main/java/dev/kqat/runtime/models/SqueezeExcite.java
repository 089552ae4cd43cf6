package dev.kqat.runtime.models;

import static dev.kqat.runtime.nn.Layers.dense;
import static dev.kqat.runtime.nn.Layers.globalAvgPool;
import static dev.kqat.runtime.nn.Layers.hardSigmoid;
import static dev.kqat.runtime.nn.Layers.relu;

import dev.kqat.runtime.nn.NetContext;
import org.tensorflow.Operand;
import org.tensorflow.op.Ops;
import org.tensorflow.types.TFloat32;

/**
 * MobileNetV3's squeeze-excite: average pool, reduce (1×1 conv with bias, here a dense layer on the
 * pooled vector), ReLU, expand, hard-sigmoid, channel scale. Quantization policy (architecture.md,
 * README): the two 1×1 layers are weight layers like any other — weights and inputs quantized at
 * the policy's bits — while the gate and the channel scale stay in floating point; the projection
 * conv that follows quantizes the scaled tensor at its input.
 */
final class SqueezeExcite {
  private SqueezeExcite() {}

  static Operand<TFloat32> apply(NetContext ctx, String name, Operand<TFloat32> x, int squeezeChannels) {
    Ops tf = ctx.tf();
    int channels = (int) x.shape().get(3);
    Operand<TFloat32> s = globalAvgPool(ctx, x);
    s = relu(ctx, dense(ctx, name + "/se_reduce", s, squeezeChannels));
    Operand<TFloat32> gate = hardSigmoid(ctx, dense(ctx, name + "/se_expand", s, channels));
    return tf.math.mul(x, tf.reshape(gate, tf.constant(new long[] {-1, 1, 1, channels})));
  }
}
