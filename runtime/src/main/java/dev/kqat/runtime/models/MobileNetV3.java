package dev.kqat.runtime.models;

import static dev.kqat.runtime.nn.Layers.add;
import static dev.kqat.runtime.nn.Layers.batchNorm;
import static dev.kqat.runtime.nn.Layers.conv2d;
import static dev.kqat.runtime.nn.Layers.dense;
import static dev.kqat.runtime.nn.Layers.depthwiseConv2d;
import static dev.kqat.runtime.nn.Layers.dropout;
import static dev.kqat.runtime.nn.Layers.globalAvgPool;
import static dev.kqat.runtime.nn.Layers.hardSwish;
import static dev.kqat.runtime.nn.Layers.relu;

import dev.kqat.runtime.nn.NetContext;
import java.util.LinkedHashMap;
import java.util.Map;
import org.tensorflow.Operand;
import org.tensorflow.types.TFloat32;

/**
 * MobileNetV3-Small and -Large (Howard et al. 2019) as torchvision and
 * {@code keras.applications} build them: hard-swish, squeeze-excite with a hard-sigmoid gate, 3×3
 * and 5×5 depth-wise convolutions, BN epsilon 1e-3, and a head of 1×1 conv, average pool, dense
 * with hard-swish, dropout 0.2, classifier. Weights: Small 2,542,856 and Large 5,483,032 at 1000
 * classes. Quantization policy of squeeze-excite and hard-swish: see {@link SqueezeExcite}; the
 * activations are computed in floating point and quantized at the next layer's input.
 */
public final class MobileNetV3 extends SquareImageModel implements KerasLayout {
  static final float BN_EPSILON = 1e-3f;

  /**
   * One block: depth-wise kernel, expansion ratio over the block's input channels (Keras' form, so
   * that other widths match {@code keras.applications}), output channels before the width
   * multiplier, squeeze-excite, hard-swish, stride.
   */
  record Block(int kernel, double expansion, int out, boolean squeezeExcite, boolean hardSwish, int stride) {}

  static final Block[] SMALL = {
    new Block(3, 1, 16, true, false, 2),
    new Block(3, 72.0 / 16, 24, false, false, 2),
    new Block(3, 88.0 / 24, 24, false, false, 1),
    new Block(5, 4, 40, true, true, 2),
    new Block(5, 6, 40, true, true, 1),
    new Block(5, 6, 40, true, true, 1),
    new Block(5, 3, 48, true, true, 1),
    new Block(5, 3, 48, true, true, 1),
    new Block(5, 6, 96, true, true, 2),
    new Block(5, 6, 96, true, true, 1),
    new Block(5, 6, 96, true, true, 1),
  };

  static final Block[] LARGE = {
    new Block(3, 1, 16, false, false, 1),
    new Block(3, 4, 24, false, false, 2),
    new Block(3, 3, 24, false, false, 1),
    new Block(5, 3, 40, true, false, 2),
    new Block(5, 3, 40, true, false, 1),
    new Block(5, 3, 40, true, false, 1),
    new Block(3, 6, 80, false, true, 2),
    new Block(3, 2.5, 80, false, true, 1),
    new Block(3, 2.3, 80, false, true, 1),
    new Block(3, 2.3, 80, false, true, 1),
    new Block(3, 6, 112, true, true, 1),
    new Block(3, 6, 112, true, true, 1),
    new Block(5, 6, 160, true, true, 2),
    new Block(5, 6, 160, true, true, 1),
    new Block(5, 6, 160, true, true, 1),
  };

  private final boolean large;
  private final double width;

  private MobileNetV3(boolean large, double width, int numClasses, int inputSize, int inputChannels) {
    super(numClasses, inputSize, inputChannels);
    if (width <= 0) {
      throw new IllegalArgumentException("widthMultiplier must be > 0, got " + width);
    }
    this.large = large;
    this.width = width;
  }

  public static MobileNetV3 small(double widthMultiplier, int numClasses, int inputSize, int inputChannels) {
    return new MobileNetV3(false, widthMultiplier, numClasses, inputSize, inputChannels);
  }

  public static MobileNetV3 large(double widthMultiplier, int numClasses, int inputSize, int inputChannels) {
    return new MobileNetV3(true, widthMultiplier, numClasses, inputSize, inputChannels);
  }

  @Override
  public String name() {
    return large ? "mobilenet-v3-large" : "mobilenet-v3-small";
  }

  @Override
  public Operand<TFloat32> forward(NetContext ctx, Operand<TFloat32> images) {
    // The stem keeps 16 channels at every width, as in Keras.
    Operand<TFloat32> h = conv2d(ctx, "stem", images, 16, 3, 2);
    h = hardSwish(ctx, batchNorm(ctx, "stem_bn", h, BN_EPSILON));
    Block[] blocks = blocks();
    for (int i = 0; i < blocks.length; i++) {
      h = block(ctx, "block" + (i + 1), h, blocks[i]);
    }
    int lastIn = (int) h.shape().get(3);
    h = conv2d(ctx, "head", h, MobileNetV2.makeDivisible(lastIn * 6, 8), 1, 1);
    h = hardSwish(ctx, batchNorm(ctx, "head_bn", h, BN_EPSILON));
    h = globalAvgPool(ctx, h);
    int lastPoint = large ? 1280 : 1024;
    h = hardSwish(ctx, dense(ctx, "head_fc", h, width > 1.0 ? depth(lastPoint) : lastPoint));
    h = dropout(ctx, "dropout", h, 0.2f);
    return dense(ctx, "classifier", h, numClasses);
  }

  private Operand<TFloat32> block(NetContext ctx, String name, Operand<TFloat32> x, Block b) {
    int inChannels = (int) x.shape().get(3);
    int expanded = MobileNetV2.makeDivisible(inChannels * b.expansion(), 8);
    int out = depth(b.out());
    Operand<TFloat32> h = x;
    if (b.expansion() != 1) {
      h = conv2d(ctx, name + "/expand", h, expanded, 1, 1);
      h = activation(ctx, batchNorm(ctx, name + "/expand_bn", h, BN_EPSILON), b);
    }
    h = depthwiseConv2d(ctx, name + "/dw", h, b.kernel(), b.stride());
    h = activation(ctx, batchNorm(ctx, name + "/dw_bn", h, BN_EPSILON), b);
    if (b.squeezeExcite()) {
      h = SqueezeExcite.apply(ctx, name, h, MobileNetV2.makeDivisible(expanded / 4.0, 8));
    }
    h = conv2d(ctx, name + "/project", h, out, 1, 1);
    h = batchNorm(ctx, name + "/project_bn", h, BN_EPSILON);
    if (b.stride() == 1 && inChannels == out) {
      h = add(ctx, h, x);
    }
    return h;
  }

  private static Operand<TFloat32> activation(NetContext ctx, Operand<TFloat32> x, Block b) {
    return b.hardSwish() ? hardSwish(ctx, x) : relu(ctx, x);
  }

  private Block[] blocks() {
    return large ? LARGE : SMALL;
  }

  private int depth(int channels) {
    return MobileNetV2.makeDivisible(channels * width, 8);
  }

  @Override
  public Map<String, String> kerasLayerNames() {
    Map<String, String> m = new LinkedHashMap<>();
    m.put("Conv", "stem");
    m.put("Conv/BatchNorm", "stem_bn");
    for (int i = 0; i < blocks().length; i++) {
      // Keras: "expanded_conv/" for the first block, "expanded_conv_<i>/" for the others.
      String keras = i == 0 ? "expanded_conv/" : "expanded_conv_" + i + "/";
      String ours = "block" + (i + 1) + "/";
      m.put(keras + "expand", ours + "expand");
      m.put(keras + "expand/BatchNorm", ours + "expand_bn");
      m.put(keras + "depthwise", ours + "dw");
      m.put(keras + "depthwise/BatchNorm", ours + "dw_bn");
      m.put(keras + "squeeze_excite/Conv", ours + "se_reduce");
      m.put(keras + "squeeze_excite/Conv_1", ours + "se_expand");
      m.put(keras + "project", ours + "project");
      m.put(keras + "project/BatchNorm", ours + "project_bn");
    }
    m.put("Conv_1", "head");
    m.put("Conv_1/BatchNorm", "head_bn");
    m.put("Conv_2", "head_fc");
    m.put("Logits", "classifier");
    return m;
  }
}
