package dev.kqat.runtime.mixed;

import dev.kqat.runtime.quant.BitConfiguration;
import dev.kqat.runtime.quant.BitRange;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;

/**
 * The random subnets of a supernet training step (RFQuant, algorithms.md §2.5): per searchable layer,
 * weight and input bit-widths drawn independently and uniformly from its current candidates. The
 * generator is seeded by the run's seed and the global step, so a resumed run draws the same subnets
 * at the same steps (the reference reseeds every epoch so that all workers agree).
 */
public final class SubnetSampler {
  private SubnetSampler() {}

  /** The {@code k} random subnets of global step {@code step}. */
  public static List<BitConfiguration> draw(Candidates candidates, int k, long seed, long step) {
    SplittableRandom rnd = new SplittableRandom(seed * 0x9E3779B97F4A7C15L + step);
    List<BitConfiguration> subnets = new ArrayList<>();
    for (int i = 0; i < k; i++) {
      Map<String, BitConfiguration.LayerBits> layers = new LinkedHashMap<>();
      for (String layer : candidates.original().keySet()) {
        layers.put(layer, new BitConfiguration.LayerBits(pick(rnd, candidates.weights(layer)), pick(rnd, candidates.inputs(layer))));
      }
      subnets.add(new BitConfiguration(layers));
    }
    return subnets;
  }

  /** Every layer at its highest candidate: the max subnet each step trains first. */
  public static BitConfiguration max(Candidates candidates) {
    return BitConfiguration.of(candidates.original(), r -> new BitConfiguration.LayerBits(r.highest(), r.highest()));
  }

  private static int pick(SplittableRandom rnd, BitRange range) {
    return range.lowest() + rnd.nextInt(range.size());
  }
}
