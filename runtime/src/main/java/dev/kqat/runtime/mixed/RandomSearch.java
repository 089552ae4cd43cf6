package dev.kqat.runtime.mixed;

import dev.kqat.runtime.quant.BitConfiguration;
import dev.kqat.runtime.quant.BitRange;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.function.Consumer;

/**
 * RFQuant's random search (algorithms.md §2.10, the reference's alternative to the greedy search):
 * draws configurations — every layer's weight and input bits uniform over its candidates, independently
 * — until {@code samples} of them cost within ±{@code tolerance} (a share of the budget) of the budget,
 * scores each on one batch, and keeps the {@code keep} with the lowest error.
 */
public final class RandomSearch {
  /** The top-1 error of a subnet on the search's one batch. */
  @FunctionalInterface
  public interface Scorer {
    double error(BitConfiguration config);
  }

  /**
   * @param samples configurations within the tolerance to score (reference 1,000)
   * @param keep best ones kept (reference 30)
   * @param tolerance accepted cost distance from the budget, as a share of it (reference ±0.1 G at 5.58 G)
   * @param maxDraws draws after which the search scores what it has (a budget far from the typical
   *     random configuration's cost may be rarely met)
   */
  public record Settings(int samples, int keep, double tolerance, long maxDraws) {
    public static final double REFERENCE_TOLERANCE = 0.1 / 5.58;
  }

  public record Scored(BitConfiguration config, double cost, double error) {}

  /**
   * @param kept the best scored configurations, lowest error first (draw order among equals)
   * @param scored configurations scored (below {@link Settings#samples} when {@code maxDraws} ran out)
   * @param drawn configurations drawn in all
   */
  public record Result(List<Scored> kept, int scored, long drawn) {}

  /** Where the search stands after a configuration is scored: configurations scored and drawn so far. */
  public record Progress(int scored, long drawn) {}

  private RandomSearch() {}

  public static Result search(Map<String, BitRange> candidates, double budget, Settings s, long seed, Scorer scorer,
      GreedySearch.Cost cost) {
    return search(candidates, budget, s, seed, scorer, cost, p -> {});
  }

  /** As {@link #search(Map, double, Settings, long, Scorer, GreedySearch.Cost)}, telling {@code progress} after every configuration scored. */
  public static Result search(Map<String, BitRange> candidates, double budget, Settings s, long seed, Scorer scorer,
      GreedySearch.Cost cost, Consumer<Progress> progress) {
    SplittableRandom random = new SplittableRandom(seed);
    List<Scored> scored = new ArrayList<>();
    long drawn = 0;
    while (scored.size() < s.samples() && drawn < s.maxDraws()) {
      Map<String, BitConfiguration.LayerBits> layers = new LinkedHashMap<>();
      candidates.forEach((layer, r) -> layers.put(layer, new BitConfiguration.LayerBits(
          random.nextInt(r.lowest(), r.highest() + 1), random.nextInt(r.lowest(), r.highest() + 1))));
      BitConfiguration config = new BitConfiguration(layers);
      drawn++;
      double c = cost.of(config);
      if (Math.abs(c - budget) <= s.tolerance() * budget) {
        scored.add(new Scored(config, c, scorer.error(config)));
        progress.accept(new Progress(scored.size(), drawn));
      }
    }
    List<Scored> kept = new ArrayList<>(scored);
    kept.sort(Comparator.comparingDouble(Scored::error)); // stable: draw order among equal errors
    return new Result(List.copyOf(kept.subList(0, Math.min(s.keep(), kept.size()))), scored.size(), drawn);
  }
}
