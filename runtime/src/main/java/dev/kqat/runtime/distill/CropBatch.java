package dev.kqat.runtime.distill;

import dev.kqat.runtime.data.Batch;
import org.tensorflow.types.TFloat32;
import org.tensorflow.types.TInt32;

/**
 * A training step's crops of a batch of images: the graph cuts {@code boxes} out of the batch's
 * images ({@code CropAndResize}) and trains on them against {@code targets}. Closing it leaves the
 * image batch to its owner.
 *
 * @param images the whole images
 * @param boxes {@code [size, 4]} crop boxes ({@link StoredCrop#box})
 * @param boxImages {@code [size]} which image of {@code images} each crop is cut from
 * @param labels {@code [size]} hard labels of the crops (accuracy)
 * @param targets {@code [size, classes]} decoded soft labels (loss)
 * @param size number of crops
 */
public record CropBatch(Batch images, TFloat32 boxes, TInt32 boxImages, TInt32 labels, TFloat32 targets, int size)
    implements AutoCloseable {
  @Override
  public void close() {
    boxes.close();
    boxImages.close();
    labels.close();
    targets.close();
  }
}
