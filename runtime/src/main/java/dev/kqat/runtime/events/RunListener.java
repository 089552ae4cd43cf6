package dev.kqat.runtime.events;

import java.nio.file.Path;

/**
 * Receives what the trainer does (architecture.md rule 7: events, not prints). Sinks such as the
 * progress bar, metrics.jsonl and checkpoints reports implement the methods they need.
 */
public interface RunListener {
  /** A phase (e.g. {@code pretrain}, {@code qat}) begins, possibly resumed at {@code startEpoch}. */
  default void phaseStarted(String phase, int epochs, int stepsPerEpoch, int startEpoch) {}

  /**
   * The phase starts from Keras weights: {@code loaded} variables set from {@code file};
   * {@code skipped} lists classifier variables left at their initial values (other class count).
   */
  default void weightsImported(String phase, Path file, int loaded, java.util.List<String> skipped) {}

  /** Quantizer ranges were initialised; {@code seconds} of calibration. */
  default void calibrated(String phase, int quantizers, double seconds) {}

  /** One optimizer step finished. */
  default void stepEnded(StepMetrics step) {}

  /** An evaluation finished ({@code epoch} is 0 for the one before training). */
  default void evaluated(String phase, int epoch, EvalMetrics metrics) {}

  /** An epoch finished and was evaluated. */
  default void epochEnded(EpochMetrics epoch) {}

  /** A checkpoint was written atomically to {@code dir}. */
  default void checkpointSaved(String phase, int epoch, Path dir) {}

  /** A supernet step (0-based {@code step}) trains these random subnets besides the max one (RFQuant §2.5). */
  default void subnetsSampled(String phase, long step, java.util.List<dev.kqat.runtime.quant.BitConfiguration> subnets) {}

  /**
   * RFQuant's bit-width scheduler ran before {@code step}, at {@code referenceEpoch} of the reference's
   * 150 (§2.6): {@code dropped} are the layers now trained without their lowest weight bit-width.
   */
  default void bitWidthsScheduled(String phase, long step, int referenceEpoch, java.util.List<String> dropped) {}

  /**
   * A supernet search's progress or result as a console line, the ones {@code kqat search} prints (greedy
   * steps so far, a budget's configuration against the best uniform subnet within it).
   */
  default void searchReported(String line) {}

  default void phaseEnded(String phase) {}

  /** Fans one event stream out to several listeners. */
  static RunListener of(RunListener... listeners) {
    return new CompositeListener(java.util.List.of(listeners));
  }
}
