package dev.kqat.runtime.distill;

import java.util.ArrayList;
import java.util.List;

/**
 * FKD's epoch accounting (algorithms.md §3.4): with {@code crops} stored crops per image per step, one
 * pass over the data counts as {@code crops} epochs; passes start at epochs 0, crops, 2·crops, …, and
 * once a pass would start at or after {@code epochs - crops} the remaining epochs run one crop per
 * image, one epoch each (150 epochs at 4 crops: 37 passes of 4, then epochs 148 and 149 single-crop).
 */
public final class CropPasses {
  private CropPasses() {}

  /**
   * One pass over the training data.
   *
   * @param firstEpoch epochs completed before it (0-based start)
   * @param crops crops per image per step, also the epochs it counts for
   */
  public record Pass(int firstEpoch, int crops) {
    /** The epoch count reached when the pass ends: what its checkpoint and its metrics are numbered. */
    public int lastEpoch() {
      return firstEpoch + crops;
    }
  }

  /** The passes of {@code epochs} epochs at {@code crops} crops. */
  public static List<Pass> of(int epochs, int crops) {
    List<Pass> passes = new ArrayList<>();
    int start = 0;
    while (crops > 1 && start < epochs - crops) {
      passes.add(new Pass(start, crops));
      start += crops;
    }
    for (; start < epochs; start++) {
      passes.add(new Pass(start, 1));
    }
    return passes;
  }

  /** Images per step when a step holds {@code batchSize} crops: {@code ceil(batchSize / crops)}. */
  public static int imagesPerStep(int batchSize, int crops) {
    return (batchSize + crops - 1) / crops;
  }
}
