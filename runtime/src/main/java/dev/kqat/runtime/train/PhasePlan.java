package dev.kqat.runtime.train;

import dev.kqat.runtime.data.Dataset;

/**
 * How one training phase runs.
 *
 * @param phase name used in events and checkpoint folders, e.g. {@code pretrain} or {@code qat}
 * @param epochs number of epochs
 * @param batchSize batch size for training, evaluation and calibration
 * @param train training data (shuffled every epoch, final partial batch dropped)
 * @param test evaluation data
 * @param checkpoints where this phase's checkpoints go, or null for none
 * @param calibrationBatches training batches used to initialise quantizer ranges
 * @param evaluateBeforeTraining evaluate once before the first epoch (after calibration)
 */
public record PhasePlan(
    String phase,
    int epochs,
    int batchSize,
    Dataset train,
    Dataset test,
    CheckpointStore checkpoints,
    int calibrationBatches,
    boolean evaluateBeforeTraining) {
  public PhasePlan {
    if (epochs < 1) {
      throw new IllegalArgumentException("epochs must be >= 1, got " + epochs);
    }
    if (batchSize < 1) {
      throw new IllegalArgumentException("batch size must be >= 1, got " + batchSize);
    }
    if (train.size() < batchSize) {
      throw new IllegalArgumentException(
          "the training set has " + train.size() + " examples, fewer than one batch of " + batchSize);
    }
  }
}
