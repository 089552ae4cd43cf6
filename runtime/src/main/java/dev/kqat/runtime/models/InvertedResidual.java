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
 * The MobileNetV2 / EfficientNet-lite block: [1×1 expand + BN + ReLU6] (skipped when t = 1), k×k
 * depth-wise + BN + ReLU6, 1×1 linear projection + BN, residual add when stride is 1 and channels
 * match. With t = 1 it is EfficientNet's depth-wise separable block.
 */
final class InvertedResidual {
  private InvertedResidual() {}

  /** One row of a block table: expansion t, output channels c, repeats n, first stride s, kernel k. */
  record Row(int expansion, int channels, int repeats, int stride, int kernel) {}

  static Operand<TFloat32> apply(NetContext ctx, String name, Operand<TFloat32> x, int expansion,
      int outChannels, int stride, int kernel, float bnEpsilon) {
    int inChannels = (int) x.shape().get(3);
    Operand<TFloat32> h = x;
    if (expansion != 1) {
      h = conv2d(ctx, name + "/expand", h, inChannels * expansion, 1, 1);
      h = relu6(ctx, batchNorm(ctx, name + "/expand_bn", h, bnEpsilon));
    }
    h = depthwiseConv2d(ctx, name + "/dw", h, kernel, stride);
    h = relu6(ctx, batchNorm(ctx, name + "/dw_bn", h, bnEpsilon));
    h = conv2d(ctx, name + "/project", h, outChannels, 1, 1);
    h = batchNorm(ctx, name + "/project_bn", h, bnEpsilon);
    if (stride == 1 && inChannels == outChannels) {
      h = add(ctx, h, x);
    }
    return h;
  }

  /** Stacks blocks named {@code block1, block2, ...} from the rows, channels scaled by {@code width}. */
  static Operand<TFloat32> stack(
      NetContext ctx, Operand<TFloat32> x, Row[] rows, double width, float bnEpsilon) {
    int index = 1;
    Operand<TFloat32> h = x;
    for (Row row : rows) {
      int channels = MobileNetV2.makeDivisible(row.channels() * width, 8);
      for (int i = 0; i < row.repeats(); i++) {
        h = apply(ctx, "block" + index, h, row.expansion(), channels, i == 0 ? row.stride() : 1,
            row.kernel(), bnEpsilon);
        index++;
      }
    }
    return h;
  }

  /** MobileNetV2's {@code (t, c, n, s)} rows, all with 3×3 depth-wise kernels. */
  static Row[] threeByThree(int[][] settings) {
    Row[] rows = new Row[settings.length];
    for (int i = 0; i < settings.length; i++) {
      rows[i] = new Row(settings[i][0], settings[i][1], settings[i][2], settings[i][3], 3);
    }
    return rows;
  }
}
