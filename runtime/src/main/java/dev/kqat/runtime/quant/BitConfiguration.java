package dev.kqat.runtime.quant;

import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.function.Function;

/**
 * One subnet of a supernet (RFQuant, algorithms.md §2.2): the weight and input bit-widths of every
 * searchable layer. Layers it does not name run at their highest candidate.
 *
 * @param layers layer name to its bit-widths, in forward order
 */
public record BitConfiguration(Map<String, LayerBits> layers) {
  /** One layer's bit-widths. */
  public record LayerBits(int weight, int input) {}

  public BitConfiguration {
    layers = Collections.unmodifiableMap(new LinkedHashMap<>(layers));
  }

  /** Every layer of {@code candidates} at the bits {@code choose} gives its range. */
  public static BitConfiguration of(Map<String, BitRange> candidates, Function<BitRange, LayerBits> choose) {
    Map<String, LayerBits> layers = new LinkedHashMap<>();
    candidates.forEach((layer, range) -> layers.put(layer, choose.apply(range)));
    return new BitConfiguration(layers);
  }

  /** Every layer at {@code bits} for weights and inputs, or at its nearest candidate ({@code uniform:4} of depth-wise 3..6 is 4). */
  public static BitConfiguration uniform(Map<String, BitRange> candidates, int bits) {
    return of(candidates, r -> {
      int b = Math.max(r.lowest(), Math.min(r.highest(), bits));
      return new LayerBits(b, b);
    });
  }
}
