package dev.kqat.runtime.mixed;

import dev.kqat.runtime.quant.BitConfiguration;
import dev.kqat.runtime.quant.BitRange;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Consumer;

/**
 * RFQuant's retraining-free greedy bidirectional search (algorithms.md §2.10): from every layer at
 * {@code startBits}, each step tries one bit-width down and one up for every layer — weights first,
 * until the cost is under 95 % of the uniform weight-target level, then inputs — scores each move as
 * {@code 1.5·err/E + cost/Cmax - 1} on that step's batch ({@code E}, {@code Cmax}: the step's largest
 * error and cost) and applies the best, until the cost is under the budget — in either phase, as the
 * reference's code ({@code util/greedy_search.py}) does, where algorithms.md's outline checks the budget
 * only in the inputs phase: when the weight target lies under the budget (e.g. starting at 3 bits for a
 * 2.5-bit budget), the weights would otherwise have to reach a cost the floor may not allow.
 *
 * <p>The weights descend to 95 % of the weight-target level's cost, 110 % when that level is the floor
 * ({@link #weightPhaseFraction}). Two rules of the reference are written for ImageNet BitOPs; here they follow the budget's
 * uniform level instead: the weight target is {@code weightTargetBits} (the uniform bit-width whose
 * cost is closest to the budget, {@link #uniformLevel}), and the floor below which no layer descends is 3
 * at a 4-bit level and above, else 2 ({@link #floorFor}).
 *
 * <p>The reference scores the up move of a layer at the floor, but applies the best move only where the
 * layer is above it: when that up move wins, the step changes nothing, and where it keeps winning on
 * fresh batches the search stalls (counted in {@link Result#unapplied}). {@link Settings#freezeAtFloor}
 * leaves such layers out of the step instead (not the reference's).
 *
 * <p>The reference stops at the first configuration under the budget, leaving what the last move freed
 * unused. {@link Settings#fillBudget} (not the reference's) goes on raising: each further step, on its own
 * batch, scores every layer's weight and input up moves that keep the cost under the budget and applies
 * the one of least error (the cheaper on ties), until no up move fits (counted in {@link Result#filled}).
 */
public final class GreedySearch {
  /**
   * The top-1 error of {@code move} on the batch of greedy step {@code step}; {@code current} is the
   * step's configuration, from which {@code move} differs in one layer's bits.
   */
  @FunctionalInterface
  public interface Scorer {
    double error(BitConfiguration current, BitConfiguration move, int step);
  }

  /** A subnet's cost (BitOPs or size). */
  @FunctionalInterface
  public interface Cost {
    double of(BitConfiguration config);
  }

  /**
   * @param startBits every layer's bits at the start (reference: 5)
   * @param weightTargetBits uniform weight bits whose cost (inputs at {@code startBits}) the weight phase descends to 95 % of
   * @param floor no move goes down from this many bits or fewer
   * @param maxSteps steps after which the search gives up
   * @param freezeAtFloor a layer at the floor gets no moves (false: the reference's, which scores its up
   *     move and applies nothing when that wins)
   * @param fillBudget once under the budget, raise layers while an up move still fits (false: the
   *     reference's, which stops there)
   */
  public record Settings(int startBits, int weightTargetBits, int floor, int maxSteps, boolean freezeAtFloor, boolean fillBudget) {
    /** The reference's rule at the floor and its stop at the budget. */
    public Settings(int startBits, int weightTargetBits, int floor, int maxSteps) {
      this(startBits, weightTargetBits, floor, maxSteps, false, false);
    }

    /** The reference's stop at the budget. */
    public Settings(int startBits, int weightTargetBits, int floor, int maxSteps, boolean freezeAtFloor) {
      this(startBits, weightTargetBits, floor, maxSteps, freezeAtFloor, false);
    }
  }

  /**
   * @param config the configuration found, or null when {@code maxSteps} ran out above the budget
   * @param cost its cost
   * @param steps greedy steps taken
   * @param evaluations subnets scored
   * @param up steps that raised a layer's bits
   * @param down steps that lowered a layer's bits
   * @param unapplied steps whose best move was a layer's at the floor, so nothing changed
   * @param filled steps after the budget was reached that raised a layer within it ({@link Settings#fillBudget})
   */
  public record Result(BitConfiguration config, double cost, int steps, int evaluations, int up, int down, int unapplied,
      int filled) {}

  /**
   * Where a search stands after greedy step {@code step} (counted from 0): its cost, whether the weights
   * are done ({@code inputsPhase}) or the budget is being filled, and the moves so far.
   */
  public record Progress(int step, double cost, boolean inputsPhase, boolean filling, int down, int up, int unapplied,
      int filled) {}

  private record Move(String layer, int direction, double error, double cost) {}

  /** A fill step's candidate: one bit more for a layer's weights (side 0) or inputs (side 1). */
  private record UpMove(String layer, int side, double error, double cost) {}

  private GreedySearch() {}

  /** The uniform bit-width (2..8) whose cost is closest to {@code budget}. */
  public static int uniformLevel(Map<String, BitRange> candidates, double budget, Cost cost) {
    int best = 2;
    for (int b = 3; b <= 8; b++) {
      if (Math.abs(cost.of(BitConfiguration.uniform(candidates, b)) - budget)
          < Math.abs(cost.of(BitConfiguration.uniform(candidates, best)) - budget)) {
        best = b;
      }
    }
    return best;
  }

  /**
   * The lowest uniform bit-width (2..8, each layer clamped to its candidates) whose cost reaches {@code budget},
   * the highest when none does: a search that starts there descends to the budget (uniform:3 → 3; a budget
   * between the 3- and 4-bit subnets' costs → 4).
   */
  public static int levelReaching(Map<String, BitRange> candidates, double budget, Cost cost) {
    for (int b = 2; b < 8; b++) {
      if (cost.of(BitConfiguration.uniform(candidates, b)) >= budget) {
        return b;
      }
    }
    return 8;
  }

  /** No layer goes below 3 bits when the budget is at the 4-bit level or above (the reference: 5 G on MobileNetV2). */
  public static int floorFor(int uniformLevel) {
    return uniformLevel >= 4 ? 3 : 2;
  }

  public static Result search(Map<String, BitRange> candidates, double budget, Settings s, Scorer scorer, Cost cost) {
    return search(candidates, budget, s, scorer, cost, p -> {});
  }

  /** As {@link #search(Map, double, Settings, Scorer, Cost)}, telling {@code progress} after every step. */
  public static Result search(Map<String, BitRange> candidates, double budget, Settings s, Scorer scorer, Cost cost,
      Consumer<Progress> progress) {
    Map<String, int[]> bits = new LinkedHashMap<>(); // layer -> {weight, input}
    candidates.forEach((layer, r) -> {
      int b = clamp(s.startBits(), r);
      bits.put(layer, new int[] {b, b});
    });
    Map<String, int[]> weightTarget = new LinkedHashMap<>();
    candidates.forEach((layer, r) -> weightTarget.put(layer, new int[] {clamp(s.weightTargetBits(), r), clamp(s.startBits(), r)}));
    double weightBudget = weightPhaseFraction(s) * cost.of(config(weightTarget));
    int side = 0; // 0: weights, 1: inputs
    int evaluations = 0;
    int up = 0;
    int down = 0;
    int unapplied = 0;
    for (int step = 0; step < s.maxSteps(); step++) {
      double now = cost.of(config(bits));
      if (side == 0 && now <= weightBudget) {
        side = 1;
      }
      // Under the budget in either phase, as the reference's code records it (algorithms.md's outline
      // checks only in the inputs phase; with a weight target under the budget that phase never ends).
      if (now < budget) {
        if (!s.fillBudget()) {
          return new Result(config(bits), now, step, evaluations, up, down, unapplied, 0);
        }
        return fill(bits, candidates, budget, s, step, evaluations, up, down, unapplied, scorer, cost, progress);
      }
      List<Move> tried = new ArrayList<>();
      BitConfiguration current = config(bits);
      for (Map.Entry<String, int[]> e : bits.entrySet()) {
        BitRange range = candidates.get(e.getKey());
        int layerBits = e.getValue()[side];
        if (s.freezeAtFloor() && layerBits <= s.floor()) {
          continue;
        }
        for (int direction : new int[] {-1, 1}) {
          boolean valid = direction < 0 ? layerBits > s.floor() && layerBits > range.lowest() : layerBits < range.highest();
          if (!valid) {
            continue;
          }
          e.getValue()[side] = layerBits + direction;
          BitConfiguration candidate = config(bits);
          tried.add(new Move(e.getKey(), direction, scorer.error(current, candidate, step), cost.of(candidate)));
          e.getValue()[side] = layerBits;
          evaluations++;
        }
      }
      double maxErr = tried.stream().mapToDouble(Move::error).max().orElse(0);
      double maxCost = tried.stream().mapToDouble(Move::cost).max().orElse(1);
      Move best = null;
      double bestScore = Double.POSITIVE_INFINITY;
      for (Move m : tried) {
        double score = 1.5 * m.error() / Math.max(maxErr, 1e-12) + m.cost() / maxCost - 1;
        if (score < bestScore) {
          bestScore = score;
          best = m;
        }
      }
      // As the reference: the best move is applied only where the layer is above the floor.
      if (best != null && bits.get(best.layer())[side] > s.floor()) {
        bits.get(best.layer())[side] += best.direction();
        if (best.direction() > 0) {
          up++;
        } else {
          down++;
        }
      } else {
        unapplied++;
      }
      progress.accept(new Progress(step, cost.of(config(bits)), side == 1, false, down, up, unapplied, 0));
    }
    return new Result(null, cost.of(config(bits)), s.maxSteps(), evaluations, up, down, unapplied, 0);
  }

  /**
   * {@link Settings#fillBudget}'s steps from {@code bits}, already under the budget at step {@code step}:
   * the up move (weights or inputs, any layer) of least error on the step's batch whose cost stays under
   * the budget, the cheaper on equal errors, until none fits or the steps run out.
   */
  private static Result fill(Map<String, int[]> bits, Map<String, BitRange> candidates, double budget, Settings s,
      int step, int evaluations, int up, int down, int unapplied, Scorer scorer, Cost cost, Consumer<Progress> progress) {
    int filled = 0;
    for (; step < s.maxSteps(); step++) {
      BitConfiguration current = config(bits);
      UpMove best = null;
      for (Map.Entry<String, int[]> e : bits.entrySet()) {
        for (int side = 0; side < 2; side++) {
          int layerBits = e.getValue()[side];
          if (layerBits >= candidates.get(e.getKey()).highest()) {
            continue;
          }
          e.getValue()[side] = layerBits + 1;
          BitConfiguration candidate = config(bits);
          e.getValue()[side] = layerBits;
          double c = cost.of(candidate);
          if (c >= budget) {
            continue;
          }
          UpMove m = new UpMove(e.getKey(), side, scorer.error(current, candidate, step), c);
          evaluations++;
          if (best == null || m.error() < best.error() || (m.error() == best.error() && m.cost() < best.cost())) {
            best = m;
          }
        }
      }
      if (best == null) {
        break;
      }
      bits.get(best.layer())[best.side()]++;
      filled++;
      progress.accept(new Progress(step, cost.of(config(bits)), true, true, down, up, unapplied, filled));
    }
    return new Result(config(bits), cost.of(config(bits)), step, evaluations, up, down, unapplied, filled);
  }

  /**
   * The weight phase ends under this fraction of the weight-target level's cost: 0.95, or 1.1 when that
   * level is the floor. No layer's weights go under the floor, so 95 % of the all-at-the-floor cost is
   * out of reach and the inputs would never be searched; the reference's code sets 1.1 by hand for its
   * W2A3 ResNet-18 search ({@code util/greedy_search.py}: "sc = 1.1 # for W2A3-ResNet18").
   */
  public static double weightPhaseFraction(Settings s) {
    return s.weightTargetBits() <= s.floor() ? 1.1 : 0.95;
  }

  private static int clamp(int b, BitRange r) {
    return Math.max(r.lowest(), Math.min(r.highest(), b));
  }

  private static BitConfiguration config(Map<String, int[]> bits) {
    Map<String, BitConfiguration.LayerBits> layers = new LinkedHashMap<>();
    bits.forEach((layer, b) -> layers.put(layer, new BitConfiguration.LayerBits(b[0], b[1])));
    return new BitConfiguration(layers);
  }
}
