package dev.kqat.runtime.data;

import org.tensorflow.ndarray.Shape;
import org.tensorflow.ndarray.buffer.DataBuffers;
import org.tensorflow.types.TFloat32;
import org.tensorflow.types.TInt32;

/**
 * One batch as TensorFlow tensors; whoever receives it closes it.
 *
 * @param images NHWC float images
 * @param labels class indices
 * @param size number of examples
 * @param indices the examples' positions in their dataset (stored soft labels are looked up by them);
 *     a batch of crops ({@link ImageFolderDataset#cropBatch}) has {@code size / indices.length} rows per example
 */
public record Batch(TFloat32 images, TInt32 labels, int size, int[] indices) implements AutoCloseable {
  /**
   * Wraps example-major NHWC {@code images} ({@code labels.length} examples of {@code shape}), their
   * labels and dataset positions.
   */
  static Batch of(float[] images, int[] labels, int[] indices, int[] shape) {
    int n = labels.length;
    TFloat32 x = TFloat32.tensorOf(Shape.of(n, shape[0], shape[1], shape[2]), DataBuffers.of(images, true, false));
    TInt32 y = TInt32.tensorOf(Shape.of(n), DataBuffers.of(labels, true, false));
    return new Batch(x, y, n, indices.clone());
  }

  @Override
  public void close() {
    images.close();
    labels.close();
  }
}
