package dev.kqat.runtime.oscillation;

import dev.kqat.runtime.schedule.Schedule;

/**
 * Oscillation control of a QAT phase (algorithms.md §1.4–1.7); any part may be null (off).
 * Freezing needs tracking: a spec with freezing and no tracking tracks with the defaults.
 *
 * @param tracking which weights are tracked and how oscillations are counted
 * @param dampening the dampening loss, or null
 * @param freezing iterative freezing, or null
 */
public record OscillationSpec(Tracking tracking, Dampening dampening, Freezing freezing) {
  /** No oscillation control. */
  public static final OscillationSpec NONE = new OscillationSpec(null, null, null);

  public OscillationSpec {
    if (freezing != null && tracking == null) {
      tracking = Tracking.DEFAULT;
    }
  }

  public boolean tracks() {
    return tracking != null;
  }

  /**
   * @param maxBits weight quantizers of at most this many bits are tracked (and may freeze)
   * @param momentum EMA momentum of the oscillation frequency and of the frozen value's integer average
   * @param threshold frequency above which a weight counts as oscillating in the reports
   * @param countEvaluationPasses also update the trackers in evaluation and BN re-estimation
   *     passes, as the reference implementation does (frequencies then decay during evaluation)
   */
  public record Tracking(int maxBits, double momentum, double threshold, boolean countEvaluationPasses) {
    public static final Tracking DEFAULT = new Tracking(4, 0.001, 0.005, false);

    public Tracking {
      if (maxBits < 2 || maxBits > 16) {
        throw new IllegalArgumentException("tracking maxBits must be in 2..16, got " + maxBits);
      }
      if (!(momentum > 0 && momentum <= 1)) {
        throw new IllegalArgumentException("tracking momentum must be in (0, 1], got " + momentum);
      }
      if (!(threshold >= 0 && threshold <= 1)) {
        throw new IllegalArgumentException("tracking threshold must be in [0, 1], got " + threshold);
      }
    }
  }

  /** How the per-layer dampening terms are reduced (§1.5). */
  public enum Aggregation {
    /** Sum over all elements. */
    SUM,
    /** Mean over all elements. */
    MEAN,
    /** Sum over the output channels, mean over the rest (the reference default). */
    KERNEL_MEAN
  }

  /**
   * @param weight λ as a schedule over the active part of training
   * @param after fraction of training before which λ stays at {@code weight.at(0)} (§1.6)
   */
  public record Dampening(Schedule weight, Aggregation aggregation, double after) {
    public Dampening {
      checkAfter(after, "dampening");
    }

    /** λ at training progress t. */
    public double weightAt(double progress) {
      return weight.at(active(progress, after));
    }
  }

  /**
   * @param threshold frequency threshold as a schedule over the active part of training
   * @param after fraction of training with freezing off (threshold 0)
   * @param useEma frozen value = rounded EMA of the integer since freezing began (else the current integer)
   */
  public record Freezing(Schedule threshold, double after, boolean useEma) {
    public Freezing {
      checkAfter(after, "freezing");
    }

    /** The threshold at training progress t; 0 (off) before {@code after}. */
    public double thresholdAt(double progress) {
      return progress < after ? 0.0 : threshold.at(active(progress, after));
    }
  }

  /** Progress within the part of training that starts at {@code after}, in [0, 1]. */
  static double active(double progress, double after) {
    return progress < after ? 0.0 : Math.min(1.0, (progress - after) / (1.0 - after));
  }

  private static void checkAfter(double after, String what) {
    if (!(after >= 0 && after < 1)) {
      throw new IllegalArgumentException(what + " 'after' must be in [0, 1), got " + after);
    }
  }
}
