package dev.kqat.runtime.models;

import static dev.kqat.runtime.nn.Layers.BN_EPSILON;
import static dev.kqat.runtime.nn.Layers.batchNorm;
import static dev.kqat.runtime.nn.Layers.conv2d;
import static dev.kqat.runtime.nn.Layers.dense;
import static dev.kqat.runtime.nn.Layers.dropout;
import static dev.kqat.runtime.nn.Layers.globalAvgPool;
import static dev.kqat.runtime.nn.Layers.relu6;

import dev.kqat.runtime.models.InvertedResidual.Row;
import dev.kqat.runtime.nn.NetContext;
import org.tensorflow.Operand;
import org.tensorflow.types.TFloat32;

/**
 * EfficientNet-lite0 as timm's {@code efficientnet_lite0} (algorithms.md §4): EfficientNet-B0's
 * blocks without squeeze-excite, ReLU6 everywhere, stem (32) and head (1280) not scaled, no
 * drop-path. 4,652,008 weights at 1000 classes.
 */
public final class EfficientNetLite0 extends SquareImageModel {
  /** (expansion, channels, repeats, first stride, depth-wise kernel), as EfficientNet-B0. */
  static final Row[] BLOCKS = {
    new Row(1, 16, 1, 1, 3),
    new Row(6, 24, 2, 2, 3),
    new Row(6, 40, 2, 2, 5),
    new Row(6, 80, 3, 2, 3),
    new Row(6, 112, 3, 1, 5),
    new Row(6, 192, 4, 2, 5),
    new Row(6, 320, 1, 1, 3),
  };

  public EfficientNetLite0(int numClasses, int inputSize, int inputChannels) {
    super(numClasses, inputSize, inputChannels);
  }

  @Override
  public String name() {
    return "efficientnet-lite0";
  }

  @Override
  public Operand<TFloat32> forward(NetContext ctx, Operand<TFloat32> images) {
    Operand<TFloat32> h = conv2d(ctx, "stem", images, 32, 3, 2);
    h = relu6(ctx, batchNorm(ctx, "stem_bn", h));
    h = InvertedResidual.stack(ctx, h, BLOCKS, 1.0, BN_EPSILON);
    h = conv2d(ctx, "head", h, 1280, 1, 1);
    h = relu6(ctx, batchNorm(ctx, "head_bn", h));
    h = globalAvgPool(ctx, h);
    h = dropout(ctx, "dropout", h, 0.2f);
    return dense(ctx, "classifier", h, numClasses);
  }
}
