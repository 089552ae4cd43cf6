package dev.kqat.runtime.train;

import dev.kqat.runtime.settings.Settings;
import java.util.Map;
import java.util.stream.Collectors;
import dev.kqat.runtime.data.Dataset;

/**
 * How one training phase runs.
 *
 * @param phase name used in events and checkpoint folders, e.g. {@code pretrain} or {@code qat}
 * @param epochs number of epochs; 0 for post-training quantization: start, calibrate, evaluate
 *     (and again after BN re-estimation when asked), save one checkpoint, train nothing
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
    // problems() holds the bounds of a training phase; 0 epochs is the runtime's post-training case.
    requireValid(epochs == 0 ? 1 : epochs, batchSize, bnReestimationBatches, train);
  }

  /**
   * Throws an IllegalArgumentException naming every component out of {@link #problems}'s bounds, or
   * a training set smaller than one batch (also the supernet phase's plan).
   */
  public static void requireValid(int epochs, int batchSize, int bnReestimationBatches, Dataset train) {
    Map<String, String> bad = problems(epochs, batchSize, bnReestimationBatches);
    if (!bad.isEmpty()) {
      throw new IllegalArgumentException(bad.entrySet().stream()
          .map(e -> e.getKey() + ": " + e.getValue()).collect(Collectors.joining("; ")));
    }
    if (train.size() < batchSize) {
      throw new IllegalArgumentException(
          "the training set has " + train.size() + " examples, fewer than one batch of " + batchSize);
    }
  }

  /** The bounds of a plan's numbers, by component name; empty when they make a plan. */
  public static Map<String, String> problems(int epochs, int batchSize, int bnReestimationBatches) {
    return new Settings.Problems()
        .check(epochs >= 1, "epochs", "must be >= 1, got " + epochs)
        .check(batchSize >= 1, "batchSize", "must be >= 1, got " + batchSize)
        .check(bnReestimationBatches >= 0, "bnReestimationBatches", "must be >= 1 (or 0: off), got " + bnReestimationBatches)
        .toMap();
  }
}
