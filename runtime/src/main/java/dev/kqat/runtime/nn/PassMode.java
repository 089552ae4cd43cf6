package dev.kqat.runtime.nn;

/** What a forward pass is for; layers and quantization hooks behave by it. */
public enum PassMode {
  /** A training step: BN normalises with and updates from the batch, dropout is on. */
  TRAIN,
  /** Evaluation: running BN statistics, no dropout. */
  EVAL,
  /**
   * BN re-estimation (algorithms.md §1.8): evaluation everywhere except that BN layers normalise
   * with the batch's statistics and report them; running statistics are left alone.
   */
  BN_STATISTICS
}
