package dev.kqat.runtime.events;

import java.util.List;

/**
 * VVTQ's bin regulariser (algorithms.md §3.3) after an epoch, from the weights as they stand.
 *
 * @param weight λ of the epoch's last step (the loss adds {@code λ · total})
 * @param layers per quantized weight tensor, in forward order
 * @param total {@code Σ_layers R}
 * @param meanSpread the layers' bin spreads (steps²) averaged with their numbers of weights
 */
public record BinRegularizerMetrics(double weight, List<Layer> layers, double total, double meanSpread) {

  /**
   * One weight tensor.
   *
   * @param term its {@code R}: dampening (mean) plus the unbiased variances of its bins
   * @param spread the mean over its bins of two or more weights of their variance in steps²
   */
  public record Layer(String name, long weights, double term, double spread) {}

  public static BinRegularizerMetrics of(double weight, List<Layer> layers) {
    double total = 0;
    double spread = 0;
    long count = 0;
    for (Layer l : layers) {
      total += l.term();
      spread += l.spread() * l.weights();
      count += l.weights();
    }
    return new BinRegularizerMetrics(weight, List.copyOf(layers), total, spread / Math.max(count, 1));
  }
}
