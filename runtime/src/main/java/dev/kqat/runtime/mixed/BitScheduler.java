package dev.kqat.runtime.mixed;

import dev.kqat.runtime.quant.BitRange;
import dev.kqat.runtime.quant.IntRange;
import dev.kqat.runtime.quant.QuantizerSpec;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;

/**
 * RFQuant's bit-width scheduler, "freeze the most turbulent bit-width" (algorithms.md §2.6): at some
 * epochs, rank the searchable layers by how many of their weights sit near a decision boundary and
 * exclude the lowest weight bit-width of the most turbulent ones from sampling until the next event,
 * giving every other layer its full candidates back.
 *
 * <p>Epochs here are the reference's: a run of another length maps its progress onto
 * {@link #REFERENCE_EPOCHS} (epoch {@code floor(progress · 150)}), so that a short run sees the
 * reference's events at the same fractions of training.
 */
public final class BitScheduler {
  /** The reference's training length, over which its event rule is written. */
  public static final int REFERENCE_EPOCHS = 150;
  /** A weight counts as turbulent beyond this many steps from its bin centre: half a step less a quarter. */
  static final double TURBULENT_DISTANCE = 0.5 * (1 - 0.25);

  private BitScheduler() {}

  /**
   * Whether an event starts epoch {@code epoch} (0-based) of {@code epochs}: after epoch 5, every
   * second epoch until 72 % of training, then every fifteenth.
   */
  public static boolean runsAt(int epoch, int epochs) {
    int period = epoch <= (int) (0.72 * epochs) ? 2 : 15;
    return epoch > 5 && (epoch + 1) % period == 0;
  }

  /** The share of layers whose lowest bit-width is dropped at {@code epoch}: cosine from 0.5 to 0.2 over half of training. */
  public static double ratio(int epoch, int epochs) {
    int end = epochs / 2;
    int x = Math.min(Math.max((epoch - 5) / 2, 0), end);
    return 0.2 + 0.5 * (0.5 - 0.2) * (1 + Math.cos(Math.PI * x / end));
  }

  /**
   * The turbulence of one layer's weights: over its current weight candidates {@code b}, the share
   * of weights farther than {@value #TURBULENT_DISTANCE} steps from the centre of their bin (only
   * above the centre in the lowest bin, only below it in the highest), divided by {@code b}; then the
   * mean over the candidates, so that low bit-widths weigh more.
   *
   * @param stepSizes the layer's step size per bit-width, slots 2..8
   */
  public static double turbulence(float[] weights, float[] stepSizes, BitRange candidates) {
    double sum = 0;
    for (int b = candidates.lowest(); b <= candidates.highest(); b++) {
      double s = stepSizes[b - QuantizerSpec.SLOT_MIN_BITS];
      IntRange grid = IntRange.signed(b);
      long count = 0;
      for (float w : weights) {
        double u = w / s;
        double bin = Math.min(Math.max(Math.rint(u), grid.n()), grid.p());
        double d = u - bin;
        // A clamped weight lies beyond the outer bins' centres, away from any boundary.
        boolean turbulent = bin == grid.n() ? d > TURBULENT_DISTANCE
            : bin == grid.p() ? d < -TURBULENT_DISTANCE
            : Math.abs(d) > TURBULENT_DISTANCE;
        if (turbulent) {
          count++;
        }
      }
      sum += (double) count / weights.length / b;
    }
    return sum / candidates.size();
  }

  /**
   * One event: the {@code floor(L · ratio)} most turbulent layers lose their lowest weight candidate
   * (a layer that lost it already keeps it lost), every other layer gets its candidates back.
   *
   * @param turbulence layer name to its {@link #turbulence}
   * @return the layers now without their lowest weight candidate, most turbulent first
   */
  public static List<String> apply(Candidates candidates, Map<String, Double> turbulence, double ratio) {
    List<String> ranked = new ArrayList<>(turbulence.keySet());
    ranked.sort(Comparator.comparingDouble((String l) -> turbulence.get(l)).reversed());
    int top = (int) (ranked.size() * ratio);
    List<String> dropped = new ArrayList<>();
    for (int i = 0; i < ranked.size(); i++) {
      String layer = ranked.get(i);
      if (i < top) {
        candidates.dropLowestWeight(layer);
        if (candidates.dropped(layer)) {
          dropped.add(layer);
        }
      } else {
        candidates.restore(layer);
      }
    }
    return dropped;
  }
}
