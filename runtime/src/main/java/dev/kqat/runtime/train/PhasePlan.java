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
 * @param bnReestimationBatches training batches whose BN statistics replace the running ones
 *     before each evaluation after an epoch (algorithms.md §1.8); 0 for none
 */
public record PhasePlan(
    String phase,
    int epochs,
    int batchSize,
    Dataset train,
    Dataset test,
    CheckpointStore checkpoints,
    int calibrationBatches,
    boolean evaluateBeforeTraining,
    int bnReestimationBatches) {

  /** A plan without BN re-estimation. */
  public PhasePlan(String phase, int epochs, int batchSize, Dataset train, Dataset test,
      CheckpointStore checkpoints, int calibrationBatches, boolean evaluateBeforeTraining) {
    this(phase, epochs, batchSize, train, test, checkpoints, calibrationBatches, evaluateBeforeTraining, 0);
  }

  public PhasePlan {
    if (bnReestimationBatches < 0) {
      throw new IllegalArgumentException("BN re-estimation batches must be >= 0, got " + bnReestimationBatches);
    }
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
