package dev.kqat.runtime.mixed;

import dev.kqat.runtime.quant.BitConfiguration;
import dev.kqat.runtime.quant.BitRange;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.SplittableRandom;
import java.util.function.Consumer;

/**
 * RFQuant's evolutionary search (algorithms.md §2.10, an alternative in the reference's code): a
 * population of feasible configurations (cost within {@code [budget·(1 − tolerance), budget]}) drawn at
 * random, then per generation the best {@code parents} so far breed {@code mutations} mutants (each
 * layer's weight and input bits redrawn with probability {@code mutationProbability}) and {@code
 * crossovers} children (each layer's weight and input bits from one of two parents), topped up with
 * random ones. Every configuration is scored once. As the reference, candidates below {@code floor}
 * bits are left out (it drops the 2-bit candidates).
 */
public final class EvolutionSearch {
  /** A subnet's fitness: higher is better. */
  @FunctionalInterface
  public interface Fitness {
    double of(BitConfiguration config);
  }

  /**
   * @param population configurations per generation (reference 50)
   * @param parents best configurations so far that breed (reference 10)
   * @param mutations mutants per generation (reference 25)
   * @param crossovers children of two parents per generation (reference 25)
   * @param generations generations whose configurations are ranked (reference 20)
   * @param mutationProbability chance that a mutant redraws a layer's weight (and, apart, its input) bits (reference 0.2)
   * @param tolerance feasible costs lie in [budget·(1 − tolerance), budget] (reference: 33.7–33.9 G on ResNet18)
   * @param floor candidates below this many bits are left out (reference 3)
   * @param maxDraws random draws over the whole search after which no population is topped up any more (a budget
   *     random configurations rarely meet)
   */
  public record Settings(int population, int parents, int mutations, int crossovers, int generations,
      double mutationProbability, double tolerance, int floor, long maxDraws) {}

  public record Scored(BitConfiguration config, double cost, double fitness) {}

  /**
   * @param best the best configurations ranked, fittest first (the {@code parents} of the last generation)
   * @param scored configurations scored in all
   * @param generations generations ranked (fewer when no feasible configuration was found)
   */
  public record Result(List<Scored> best, int scored, int generations) {}

  /**
   * Where the search stands after a generation is ranked.
   *
   * @param generation generations ranked so far (1 after the first)
   * @param scored configurations scored so far
   * @param best the fittest so far (a generation is ranked only when it holds a feasible configuration)
   */
  public record Progress(int generation, int scored, Scored best) {}

  private EvolutionSearch() {}

  public static Result search(Map<String, BitRange> candidates, double budget, Settings s, long seed, Fitness fitness,
      GreedySearch.Cost cost) {
    return search(candidates, budget, s, seed, fitness, cost, p -> {});
  }

  /** As {@link #search(Map, double, Settings, long, Fitness, GreedySearch.Cost)}, telling {@code progress} after every generation. */
  public static Result search(Map<String, BitRange> candidates, double budget, Settings s, long seed, Fitness fitness,
      GreedySearch.Cost cost, Consumer<Progress> progress) {
    Map<String, BitRange> allowed = new LinkedHashMap<>();
    candidates.forEach((layer, r) -> allowed.put(layer, new BitRange(Math.min(r.highest(), Math.max(r.lowest(), s.floor())), r.highest())));
    Population p = new Population(allowed, budget, s, new SplittableRandom(seed), fitness, cost);
    List<Scored> generation = p.fillRandom(new ArrayList<>());
    List<Scored> best = new ArrayList<>();
    int ranked = 0;
    while (ranked < s.generations() && !generation.isEmpty()) {
      best.addAll(generation);
      best.sort(Comparator.comparingDouble(Scored::fitness).reversed()); // stable: earlier first among equals
      best = new ArrayList<>(best.subList(0, Math.min(s.parents(), best.size())));
      ranked++;
      progress.accept(new Progress(ranked, p.scored, best.get(0)));
      if (ranked == s.generations()) {
        break;
      }
      List<Scored> next = p.mutants(best);
      next.addAll(p.children(best));
      generation = p.fillRandom(next);
    }
    return new Result(List.copyOf(best), p.scored, ranked);
  }

  /** Draws, breeds and scores configurations, each once. */
  private static final class Population {
    private final Map<String, BitRange> allowed;
    private final double budget;
    private final Settings s;
    private final SplittableRandom random;
    private final Fitness fitness;
    private final GreedySearch.Cost cost;
    /** Every configuration drawn so far, feasible or not: none is scored twice. */
    private final Set<BitConfiguration> seen = new HashSet<>();
    private long drawn;
    private int scored;

    Population(Map<String, BitRange> allowed, double budget, Settings s, SplittableRandom random, Fitness fitness,
        GreedySearch.Cost cost) {
      this.allowed = allowed;
      this.budget = budget;
      this.s = s;
      this.random = random;
      this.fitness = fitness;
      this.cost = cost;
    }

    /** {@code into} topped up with random feasible configurations to the population size. */
    List<Scored> fillRandom(List<Scored> into) {
      while (into.size() < s.population() && drawn < s.maxDraws()) {
        drawn++;
        Map<String, BitConfiguration.LayerBits> layers = new LinkedHashMap<>();
        allowed.forEach((layer, r) -> layers.put(layer, new BitConfiguration.LayerBits(draw(r), draw(r))));
        scoreIfNew(new BitConfiguration(layers), into);
      }
      return into;
    }

    List<Scored> mutants(List<Scored> parents) {
      List<Scored> out = new ArrayList<>();
      for (int tries = 0; out.size() < s.mutations() && tries < 10 * s.mutations(); tries++) {
        BitConfiguration parent = parents.get(random.nextInt(parents.size())).config();
        Map<String, BitConfiguration.LayerBits> layers = new LinkedHashMap<>();
        parent.layers().forEach((layer, b) -> {
          BitRange r = allowed.get(layer);
          int w = random.nextDouble() < s.mutationProbability() ? draw(r) : b.weight();
          int a = random.nextDouble() < s.mutationProbability() ? draw(r) : b.input();
          layers.put(layer, new BitConfiguration.LayerBits(w, a));
        });
        scoreIfNew(new BitConfiguration(layers), out);
      }
      return out;
    }

    List<Scored> children(List<Scored> parents) {
      List<Scored> out = new ArrayList<>();
      if (parents.size() < 2) {
        return out;
      }
      for (int tries = 0; out.size() < s.crossovers() && tries < 10 * s.crossovers(); tries++) {
        int i = random.nextInt(parents.size());
        int j = random.nextInt(parents.size() - 1);
        BitConfiguration a = parents.get(i).config();
        BitConfiguration b = parents.get(j >= i ? j + 1 : j).config(); // two different parents
        Map<String, BitConfiguration.LayerBits> layers = new LinkedHashMap<>();
        a.layers().forEach((layer, bitsA) -> {
          BitConfiguration.LayerBits bitsB = b.layers().get(layer);
          layers.put(layer, new BitConfiguration.LayerBits(random.nextBoolean() ? bitsA.weight() : bitsB.weight(),
              random.nextBoolean() ? bitsA.input() : bitsB.input()));
        });
        scoreIfNew(new BitConfiguration(layers), out);
      }
      return out;
    }

    private int draw(BitRange r) {
      return random.nextInt(r.lowest(), r.highest() + 1);
    }

    private void scoreIfNew(BitConfiguration config, List<Scored> into) {
      if (!seen.add(config)) {
        return;
      }
      double c = cost.of(config);
      if (c <= budget && c >= budget * (1 - s.tolerance())) {
        into.add(new Scored(config, c, fitness.of(config)));
        scored++;
      }
    }
  }
}
