package dev.kqat.runtime.events;

import java.util.List;

/**
 * Oscillation figures of the tracked weights after an epoch (algorithms.md §1.4, §1.7).
 *
 * @param threshold frequency above which a weight counts as oscillating
 * @param layers per tracked weight tensor, in forward order
 * @param oscillatingFraction share of all tracked weights with frequency above the threshold
 * @param meanFrequency mean EMA oscillation frequency over all tracked weights
 * @param frozenFraction share of all tracked weights frozen
 * @param oscillatingUnfrozenFraction share of all tracked weights oscillating and not frozen: those
 *     still free to flip (a frozen weight's frequency decays only slowly after it is pinned)
 */
public record OscillationMetrics(
    double threshold,
    List<Layer> layers,
    double oscillatingFraction,
    double meanFrequency,
    double frozenFraction,
    double oscillatingUnfrozenFraction) {

  /** One weight tensor's figures. */
  public record Layer(String name, long weights, double oscillatingFraction, double meanFrequency,
      double frozenFraction, double oscillatingUnfrozenFraction) {}

  /** Whole-model figures weighted by each layer's number of weights. */
  public static OscillationMetrics of(double threshold, List<Layer> layers) {
    double total = 0;
    double oscillating = 0;
    double frequency = 0;
    double frozen = 0;
    double oscillatingUnfrozen = 0;
    for (Layer l : layers) {
      total += l.weights();
      oscillating += l.oscillatingFraction() * l.weights();
      frequency += l.meanFrequency() * l.weights();
      frozen += l.frozenFraction() * l.weights();
      oscillatingUnfrozen += l.oscillatingUnfrozenFraction() * l.weights();
    }
    double n = Math.max(total, 1);
    return new OscillationMetrics(threshold, List.copyOf(layers), oscillating / n, frequency / n, frozen / n,
        oscillatingUnfrozen / n);
  }
}
