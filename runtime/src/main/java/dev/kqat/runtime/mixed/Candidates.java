package dev.kqat.runtime.mixed;

import dev.kqat.runtime.quant.BitRange;
import java.util.Collection;
import java.util.Collections;
import java.util.List;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * Each searchable layer's candidate bit-widths (RFQuant, algorithms.md §2.2, §2.6): as the policy gave
 * them, and the weight candidates the bit-width scheduler currently leaves (it may drop the lowest and
 * later restore it). Weights and inputs are kept apart (the reference's {@code split_aw_cands}); the
 * input candidates never shrink.
 */
public final class Candidates {
  private final Map<String, BitRange> original;
  private final Map<String, BitRange> weights;

  /** @param original layer name to its candidates, in forward order */
  public Candidates(Map<String, BitRange> original) {
    this.original = Collections.unmodifiableMap(new LinkedHashMap<>(original));
    this.weights = new LinkedHashMap<>(original);
  }

  /** The searchable layers with the candidates the policy gave them, in forward order. */
  public Map<String, BitRange> original() {
    return original;
  }

  /** The weight bit-widths a random subnet may draw for {@code layer} now. */
  public BitRange weights(String layer) {
    return weights.get(layer);
  }

  /** The input bit-widths a random subnet may draw for {@code layer}. */
  public BitRange inputs(String layer) {
    return original.get(layer);
  }

  /** Whether the scheduler has dropped the layer's lowest weight candidate. */
  public boolean dropped(String layer) {
    return weights.get(layer).lowest() > original.get(layer).lowest();
  }

  /** The layers without their lowest weight candidate now, in forward order (a checkpoint keeps them). */
  public List<String> droppedLayers() {
    return original.keySet().stream().filter(this::dropped).toList();
  }

  /** Sets the scheduler's state: exactly {@code layers} without their lowest weight candidate (a resumed run). */
  public void setDropped(Collection<String> layers) {
    for (String layer : layers) {
      if (!original.containsKey(layer)) {
        throw new IllegalArgumentException("'" + layer + "' is not a searchable layer; searchable: " + original.keySet());
      }
    }
    original.keySet().forEach(this::restore);
    layers.forEach(this::dropLowestWeight);
  }

  /** Drops the lowest weight candidate of {@code layer} if it is still there (never the last one). */
  void dropLowestWeight(String layer) {
    BitRange now = weights.get(layer);
    if (!dropped(layer) && now.size() > 1) {
      weights.put(layer, new BitRange(now.lowest() + 1, now.highest()));
    }
  }

  /** Gives {@code layer} back all its weight candidates. */
  void restore(String layer) {
    weights.put(layer, original.get(layer));
  }
}
