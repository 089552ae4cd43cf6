package dev.kqat.runtime.data;

import org.tensorflow.types.TFloat32;
import org.tensorflow.types.TInt32;

/**
 * One batch as TensorFlow tensors; whoever receives it closes it.
 *
 * @param images NHWC float images
 * @param labels class indices
 * @param size number of examples
 */
public record Batch(TFloat32 images, TInt32 labels, int size) implements AutoCloseable {
  @Override
  public void close() {
    images.close();
    labels.close();
  }
}
