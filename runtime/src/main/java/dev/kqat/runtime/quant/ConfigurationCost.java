package dev.kqat.runtime.quant;

import java.util.ArrayList;
import java.util.List;

/**
 * BitOPs and size of a subnet (RFQuant, algorithms.md §2.9): per weight layer
 * {@code weight bits × input bits × MACs} and {@code weight bits × weights}; a layer the
 * configuration does not name (the fixed first and last layers) counts at {@code fixedBits} for both.
 *
 * @param bitOps bit operations per image
 * @param sizeBits bits of all kernels
 * @param layers per layer, in forward order
 */
public record ConfigurationCost(double bitOps, long sizeBits, List<Row> layers) {
  /** One layer's share. */
  public record Row(String layer, int weightBits, int inputBits, double bitOps, long sizeBits) {}

  public static ConfigurationCost of(List<LayerCost> costs, BitConfiguration config, int fixedBits) {
    List<Row> rows = new ArrayList<>();
    double bitOps = 0;
    long size = 0;
    for (LayerCost c : costs) {
      BitConfiguration.LayerBits b = config.layers().get(c.name());
      int w = b == null ? fixedBits : b.weight();
      int a = b == null ? fixedBits : b.input();
      Row row = new Row(c.name(), w, a, c.bitOps(w, a), c.sizeBits(w));
      rows.add(row);
      bitOps += row.bitOps();
      size += row.sizeBits();
    }
    return new ConfigurationCost(bitOps, size, List.copyOf(rows));
  }

  /** Size in MiB ({@code bits / (8·2^20)}, RFQuant's "MB"). */
  public double megabytes() {
    return sizeBits / (8.0 * (1 << 20));
  }
}
