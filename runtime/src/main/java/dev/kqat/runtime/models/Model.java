package dev.kqat.runtime.models;

import dev.kqat.runtime.nn.NetContext;
import org.tensorflow.Operand;
import org.tensorflow.types.TFloat32;

/** A network definition: plain layers, no quantization (a policy adds that). */
public interface Model {
  /** Short identifier, e.g. {@code tiny-mbv2}. */
  String name();

  /** Input image height, width and channels. */
  int[] inputShape();

  int numClasses();

  /** Builds the forward pass from NHWC images to logits. */
  Operand<TFloat32> forward(NetContext ctx, Operand<TFloat32> images);
}
