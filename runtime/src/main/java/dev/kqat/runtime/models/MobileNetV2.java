package dev.kqat.runtime.models;

import static dev.kqat.runtime.nn.Layers.batchNorm;
import static dev.kqat.runtime.nn.Layers.conv2d;
import static dev.kqat.runtime.nn.Layers.dense;
import static dev.kqat.runtime.nn.Layers.dropout;
import static dev.kqat.runtime.nn.Layers.globalAvgPool;
import static dev.kqat.runtime.nn.Layers.relu6;

import dev.kqat.runtime.nn.NetContext;
import org.tensorflow.Operand;
import org.tensorflow.types.TFloat32;

/** MobileNetV2 in the ImageNet layout (algorithms.md §4), with a width multiplier. */
public final class MobileNetV2 implements Model {
  static final int[][] SETTINGS = {
    {1, 16, 1, 1}, {6, 24, 2, 2}, {6, 32, 3, 2}, {6, 64, 4, 2}, {6, 96, 3, 1}, {6, 160, 3, 2}, {6, 320, 1, 1}
  };
  private final double width;
  private final int numClasses;
  private final int inputSize;
  private final int inputChannels;

  public MobileNetV2(double widthMultiplier, int numClasses, int inputSize, int inputChannels) {
    if (widthMultiplier <= 0) {
      throw new IllegalArgumentException("widthMultiplier must be > 0, got " + widthMultiplier);
    }
    this.width = widthMultiplier;
    this.numClasses = numClasses;
    this.inputSize = inputSize;
    this.inputChannels = inputChannels;
  }

  @Override
  public String name() {
    return "mobilenet-v2";
  }

  @Override
  public int[] inputShape() {
    return new int[] {inputSize, inputSize, inputChannels};
  }

  @Override
  public int numClasses() {
    return numClasses;
  }

  @Override
  public Operand<TFloat32> forward(NetContext ctx, Operand<TFloat32> images) {
    Operand<TFloat32> h = conv2d(ctx, "stem", images, makeDivisible(32 * width, 8), 3, 2);
    h = relu6(ctx, batchNorm(ctx, "stem_bn", h));
    h = InvertedResidual.stack(ctx, h, SETTINGS, width);
    h = conv2d(ctx, "head", h, makeDivisible(1280 * Math.max(1.0, width), 8), 1, 1);
    h = relu6(ctx, batchNorm(ctx, "head_bn", h));
    h = globalAvgPool(ctx, h);
    h = dropout(ctx, "dropout", h, 0.2f);
    return dense(ctx, "classifier", h, numClasses);
  }

  /** Rounds channels to a multiple of {@code divisor}, never below 90% of the request (torchvision). */
  static int makeDivisible(double value, int divisor) {
    int v = Math.max(divisor, (int) (value + divisor / 2.0) / divisor * divisor);
    if (v < 0.9 * value) {
      v += divisor;
    }
    return v;
  }
}
