package dev.kqat.runtime.data;

import java.util.Iterator;

/** Images already decoded and normalised into one float array (Fashion-MNIST, generated data). */
public final class InMemoryDataset implements Dataset {
  private final float[] images;
  private final int[] labels;
  private final int[] shape;
  private final int numClasses;
  private final int exampleSize;

  /**
   * @param images {@code labels.length * h * w * c} values, example-major, NHWC
   */
  public InMemoryDataset(float[] images, int[] labels, int[] shape, int numClasses) {
    this.exampleSize = shape[0] * shape[1] * shape[2];
    if (images.length != (long) labels.length * exampleSize) {
      throw new IllegalArgumentException(
          "images hold " + images.length + " values, expected " + labels.length + " × " + exampleSize);
    }
    for (int label : labels) {
      if (label < 0 || label >= numClasses) {
        throw new IllegalArgumentException("label " + label + " outside 0.." + (numClasses - 1));
      }
    }
    this.images = images;
    this.labels = labels;
    this.shape = shape.clone();
    this.numClasses = numClasses;
  }

  /** The first {@code n} examples (a view would alias; a copy keeps datasets independent). */
  public InMemoryDataset head(int n) {
    int k = Math.min(n, labels.length);
    float[] img = new float[k * exampleSize];
    System.arraycopy(images, 0, img, 0, img.length);
    int[] lab = new int[k];
    System.arraycopy(labels, 0, lab, 0, k);
    return new InMemoryDataset(img, lab, shape, numClasses);
  }

  @Override
  public int size() {
    return labels.length;
  }

  @Override
  public int[] imageShape() {
    return shape.clone();
  }

  @Override
  public int numClasses() {
    return numClasses;
  }

  @Override
  public int label(int i) {
    return labels[i];
  }

  @Override
  public Iterator<Batch> batches(int batchSize, boolean shuffle, long seed, boolean dropLast) {
    return new BatchIterator(BatchIterator.order(labels.length, shuffle, seed), batchSize,
        batchCount(batchSize, dropLast), this::assemble);
  }

  private Batch assemble(int[] indices) {
    int n = indices.length;
    float[] img = new float[n * exampleSize];
    int[] lab = new int[n];
    for (int i = 0; i < n; i++) {
      System.arraycopy(images, indices[i] * exampleSize, img, i * exampleSize, exampleSize);
      lab[i] = labels[indices[i]];
    }
    return Batch.of(img, lab, indices, shape);
  }
}
