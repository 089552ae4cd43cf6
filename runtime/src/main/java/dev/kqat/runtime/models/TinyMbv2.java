package dev.kqat.runtime.models;

import static dev.kqat.runtime.nn.Layers.BN_EPSILON;
import static dev.kqat.runtime.nn.Layers.batchNorm;
import static dev.kqat.runtime.nn.Layers.conv2d;
import static dev.kqat.runtime.nn.Layers.dense;
import static dev.kqat.runtime.nn.Layers.globalAvgPool;
import static dev.kqat.runtime.nn.Layers.relu6;

import dev.kqat.runtime.nn.NetContext;
import org.tensorflow.Operand;
import org.tensorflow.types.TFloat32;

/** The reference task's model (benchmark.md): a 86,634-parameter MobileNetV2 for 28×28 grey images. */
public final class TinyMbv2 extends ImageClassifier {
  static final int[][] SETTINGS = {{1, 16, 1, 1}, {4, 24, 2, 2}, {4, 32, 2, 2}, {4, 64, 2, 2}};
  public TinyMbv2(int numClasses, int[] inputShape) {
    super("tiny-mbv2", numClasses, inputShape);
  }

  /** Fashion-MNIST layout: 28×28×1, 10 classes. */
  public TinyMbv2() {
    this(10, new int[] {28, 28, 1});
  }

  @Override
  public Operand<TFloat32> forward(NetContext ctx, Operand<TFloat32> images) {
    Operand<TFloat32> h = conv2d(ctx, "stem", images, 16, 3, 1);
    h = relu6(ctx, batchNorm(ctx, "stem_bn", h));
    h = InvertedResidual.stack(ctx, h, InvertedResidual.threeByThree(SETTINGS), 1.0, BN_EPSILON);
    h = conv2d(ctx, "head", h, 128, 1, 1);
    h = relu6(ctx, batchNorm(ctx, "head_bn", h));
    h = globalAvgPool(ctx, h);
    return dense(ctx, "classifier", h, numClasses);
  }
}
