package dev.kqat.runtime.models;

import static dev.kqat.runtime.nn.Layers.add;
import static dev.kqat.runtime.nn.Layers.batchNorm;
import static dev.kqat.runtime.nn.Layers.conv2d;
import static dev.kqat.runtime.nn.Layers.depthwiseConv2d;
import static dev.kqat.runtime.nn.Layers.relu6;

import dev.kqat.runtime.nn.NetContext;
import org.tensorflow.Operand;
import org.tensorflow.types.TFloat32;

/**
 * The MobileNetV2 block: [1×1 expand + BN + ReLU6] (skipped when t = 1), 3×3 depth-wise + BN +
 * ReLU6, 1×1 linear projection + BN, residual add when stride is 1 and channels match.
 */
final class InvertedResidual {
  private InvertedResidual() {}

  static Operand<TFloat32> apply(
      NetContext ctx, String name, Operand<TFloat32> x, int expansion, int outChannels, int stride) {
    int inChannels = (int) x.shape().get(3);
    Operand<TFloat32> h = x;
    if (expansion != 1) {
      h = conv2d(ctx, name + "/expand", h, inChannels * expansion, 1, 1);
      h = relu6(ctx, batchNorm(ctx, name + "/expand_bn", h));
    }
    h = depthwiseConv2d(ctx, name + "/dw", h, 3, stride);
    h = relu6(ctx, batchNorm(ctx, name + "/dw_bn", h));
    h = conv2d(ctx, name + "/project", h, outChannels, 1, 1);
    h = batchNorm(ctx, name + "/project_bn", h);
    if (stride == 1 && inChannels == outChannels) {
      h = add(ctx, h, x);
    }
    return h;
  }

  /** Stacks blocks from {@code (t, c, n, s)} rows; returns the output and the next block index. */
  static Operand<TFloat32> stack(NetContext ctx, Operand<TFloat32> x, int[][] settings, double width) {
    int index = 1;
    Operand<TFloat32> h = x;
    for (int[] row : settings) {
      int channels = MobileNetV2.makeDivisible(row[1] * width, 8);
      for (int i = 0; i < row[2]; i++) {
        h = apply(ctx, "block" + index, h, row[0], channels, i == 0 ? row[3] : 1);
        index++;
      }
    }
    return h;
  }
}
