package dev.kqat.runtime.models;

import static dev.kqat.runtime.nn.Layers.batchNorm;
import static dev.kqat.runtime.nn.Layers.conv2d;
import static dev.kqat.runtime.nn.Layers.dense;
import static dev.kqat.runtime.nn.Layers.dropout;
import static dev.kqat.runtime.nn.Layers.globalAvgPool;
import static dev.kqat.runtime.nn.Layers.relu6;

import dev.kqat.runtime.nn.Layers;
import dev.kqat.runtime.nn.NetContext;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.Map;
import org.tensorflow.Operand;
import org.tensorflow.types.TFloat32;

/**
 * MobileNetV2 in the ImageNet layout (algorithms.md §4), with a width multiplier. Keras'
 * {@code keras.applications.MobileNetV2} has the same layers; {@link #kerasLayerNames()} maps its
 * names onto these for {@code .h5} weight import (Keras trains with BN epsilon 1e-3).
 */
public final class MobileNetV2 extends SquareImageModel implements KerasLayout {
  static final int[][] SETTINGS = {
    {1, 16, 1, 1}, {6, 24, 2, 2}, {6, 32, 3, 2}, {6, 64, 4, 2}, {6, 96, 3, 1}, {6, 160, 3, 2}, {6, 320, 1, 1}
  };
  private final double width;
  private final float bnEpsilon;

  public MobileNetV2(double widthMultiplier, int numClasses, int inputSize, int inputChannels) {
    this(widthMultiplier, numClasses, inputSize, inputChannels, Layers.BN_EPSILON);
  }

  public MobileNetV2(
      double widthMultiplier, int numClasses, int inputSize, int inputChannels, float bnEpsilon) {
    super(numClasses, inputSize, inputChannels);
    if (widthMultiplier <= 0) {
      throw new IllegalArgumentException("widthMultiplier must be > 0, got " + widthMultiplier);
    }
    this.width = widthMultiplier;
    this.bnEpsilon = bnEpsilon;
  }

  @Override
  public String name() {
    return "mobilenet-v2";
  }

  @Override
  public Operand<TFloat32> forward(NetContext ctx, Operand<TFloat32> images) {
    Operand<TFloat32> h = conv2d(ctx, "stem", images, makeDivisible(32 * width, 8), 3, 2);
    h = relu6(ctx, batchNorm(ctx, "stem_bn", h, bnEpsilon));
    h = InvertedResidual.stack(ctx, h, InvertedResidual.threeByThree(SETTINGS), width, bnEpsilon);
    h = conv2d(ctx, "head", h, makeDivisible(1280 * Math.max(1.0, width), 8), 1, 1);
    h = relu6(ctx, batchNorm(ctx, "head_bn", h, bnEpsilon));
    h = globalAvgPool(ctx, h);
    h = dropout(ctx, "dropout", h, 0.2f);
    return dense(ctx, "classifier", h, numClasses);
  }

  @Override
  public Map<String, String> kerasLayerNames() {
    Map<String, String> m = new LinkedHashMap<>();
    m.put("Conv1", "stem");
    m.put("bn_Conv1", "stem_bn");
    int blocks = Arrays.stream(SETTINGS).mapToInt(r -> r[2]).sum();
    for (int i = 0; i < blocks; i++) {
      // Keras calls its first block (no expansion) "expanded_conv", the others "block_<i>".
      String keras = i == 0 ? "expanded_conv_" : "block_" + i + "_";
      String ours = "block" + (i + 1) + "/";
      if (i > 0) {
        m.put(keras + "expand", ours + "expand");
        m.put(keras + "expand_BN", ours + "expand_bn");
      }
      m.put(keras + "depthwise", ours + "dw");
      m.put(keras + "depthwise_BN", ours + "dw_bn");
      m.put(keras + "project", ours + "project");
      m.put(keras + "project_BN", ours + "project_bn");
    }
    m.put("Conv_1", "head");
    m.put("Conv_1_bn", "head_bn");
    m.put("Logits", "classifier");
    return m;
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
