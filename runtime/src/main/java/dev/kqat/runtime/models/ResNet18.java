package dev.kqat.runtime.models;

import static dev.kqat.runtime.nn.Layers.add;
import static dev.kqat.runtime.nn.Layers.batchNorm;
import static dev.kqat.runtime.nn.Layers.conv2d;
import static dev.kqat.runtime.nn.Layers.dense;
import static dev.kqat.runtime.nn.Layers.globalAvgPool;
import static dev.kqat.runtime.nn.Layers.maxPool;
import static dev.kqat.runtime.nn.Layers.relu;

import dev.kqat.runtime.nn.NetContext;
import org.tensorflow.Operand;
import org.tensorflow.types.TFloat32;

/** ResNet-18 (torchvision layout): 7×7 stem, max-pool, four stages of two basic blocks. */
public final class ResNet18 extends SquareImageModel {
  public ResNet18(int numClasses, int inputSize, int inputChannels) {
    super(numClasses, inputSize, inputChannels);
  }

  @Override
  public String name() {
    return "resnet18";
  }

  @Override
  public Operand<TFloat32> forward(NetContext ctx, Operand<TFloat32> images) {
    Operand<TFloat32> h = conv2d(ctx, "stem", images, 64, 7, 2);
    h = relu(ctx, batchNorm(ctx, "stem_bn", h));
    h = maxPool(ctx, h, 3, 2);
    int[] widths = {64, 128, 256, 512};
    for (int stage = 0; stage < 4; stage++) {
      for (int block = 0; block < 2; block++) {
        int stride = stage > 0 && block == 0 ? 2 : 1;
        h = basicBlock(ctx, "layer" + (stage + 1) + "/" + block, h, widths[stage], stride);
      }
    }
    h = globalAvgPool(ctx, h);
    return dense(ctx, "classifier", h, numClasses);
  }

  private static Operand<TFloat32> basicBlock(
      NetContext ctx, String name, Operand<TFloat32> x, int channels, int stride) {
    Operand<TFloat32> h = conv2d(ctx, name + "/conv1", x, channels, 3, stride);
    h = relu(ctx, batchNorm(ctx, name + "/bn1", h));
    h = conv2d(ctx, name + "/conv2", h, channels, 3, 1);
    h = batchNorm(ctx, name + "/bn2", h);
    Operand<TFloat32> shortcut = x;
    if (stride != 1 || x.shape().get(3) != channels) {
      shortcut = conv2d(ctx, name + "/downsample", x, channels, 1, stride);
      shortcut = batchNorm(ctx, name + "/downsample_bn", shortcut);
    }
    return relu(ctx, add(ctx, h, shortcut));
  }
}
