package dev.kqat.runtime.distill;

import java.nio.file.Path;

/**
 * Distillation from soft labels stored by {@link SoftLabelGenerator} (FKD, algorithms.md §3.4): each
 * step replays {@code crops} of the stored crops of every image, each with the teacher's top-k
 * probabilities for exactly that crop, so the teacher never runs during training.
 *
 * @param file a soft-label file ({@link SoftLabelFile}) written for this training set
 * @param crops stored crops replayed per image per step ({@code num_crops}); a pass over the data
 *     then counts as {@code crops} epochs ({@link CropPasses})
 * @param decoding how the stored top-k become a distribution over all classes
 */
public record StoredSoftLabels(Path file, int crops, SoftLabelDecoding decoding) implements Distillation {
  public StoredSoftLabels {
    if (crops < 1) {
      throw new IllegalArgumentException("crops: must be >= 1, got " + crops);
    }
  }
}
