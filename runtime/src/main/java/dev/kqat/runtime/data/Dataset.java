package dev.kqat.runtime.data;

import java.util.Iterator;

/** A labelled image dataset that can be walked in batches. */
public interface Dataset {
  int size();

  /** Height, width, channels. */
  int[] imageShape();

  int numClasses();

  /** The label of example {@code i} (dataset order). */
  int label(int i);

  /**
   * Batches of one pass. The order depends only on {@code seed} when shuffling, so an epoch is
   * replayed exactly on resume.
   *
   * @param dropLast drop a final partial batch (training) or keep it (evaluation)
   */
  Iterator<Batch> batches(int batchSize, boolean shuffle, long seed, boolean dropLast);

  /** Number of batches {@link #batches} yields. */
  default int batchCount(int batchSize, boolean dropLast) {
    return dropLast ? size() / batchSize : (size() + batchSize - 1) / batchSize;
  }
}
