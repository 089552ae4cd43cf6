package dev.kqat.runtime.oscillation;

import dev.kqat.runtime.schedule.Schedule;
import dev.kqat.runtime.settings.Settings;
import java.util.Map;

/**
 * Oscillation control of a QAT phase (algorithms.md §1.4–1.7); any part may be null (off).
 * Freezing needs tracking: a spec with freezing and no tracking tracks with the defaults.
 *
 * @param tracking which weights are tracked and how oscillations are counted
 * @param dampening the dampening loss, or null
 * @param freezing iterative freezing, or null
 * @param binRegularizer VVTQ's bin regulariser (§3.3), or null
 */
public record OscillationSpec(Tracking tracking, Dampening dampening, Freezing freezing, BinRegularizer binRegularizer)
    implements Settings {
  /** No oscillation control. */
  public static final OscillationSpec NONE = new OscillationSpec(null, null, null, null);

  /** Nothing declared: every part off. */
  public static final OscillationSpec DEFAULT = NONE;

  public OscillationSpec {
    if (freezing != null && tracking == null) {
      tracking = Tracking.DEFAULT;
    }
  }

  /** The OSC parts only (no bin regulariser). */
  public OscillationSpec(Tracking tracking, Dampening dampening, Freezing freezing) {
    this(tracking, dampening, freezing, null);
  }

  public boolean tracks() {
    return tracking != null;
  }

  /** This control in a phase of {@code epochs} epochs (per-epoch schedules take the count). */
  public OscillationSpec forEpochs(int epochs) {
    return new OscillationSpec(tracking,
        dampening == null ? null : new Dampening(dampening.weight().forEpochs(epochs), dampening.aggregation(), dampening.after()),
        freezing == null ? null : new Freezing(freezing.threshold().forEpochs(epochs), freezing.after(), freezing.useEma()),
        binRegularizer == null ? null : new BinRegularizer(binRegularizer.weight().forEpochs(epochs)));
  }

  @Override
  public Map<String, String> problems() {
    return new Problems().nested("tracking", tracking).nested("dampening", dampening).nested("freezing", freezing)
        .nested("binRegularizer", binRegularizer).toMap();
  }

  /**
   * @param maxBits weight quantizers of at most this many bits are tracked (and may freeze)
   * @param momentum EMA momentum of the oscillation frequency and of the frozen value's integer average
   * @param threshold frequency above which a weight counts as oscillating in the reports
   * @param countEvaluationPasses also update the trackers in evaluation and BN re-estimation
   *     passes, as the reference implementation does (frequencies then decay during evaluation)
   */
  public record Tracking(int maxBits, double momentum, double threshold, boolean countEvaluationPasses)
      implements Settings {
    public static final Tracking DEFAULT = new Tracking(4, 0.001, 0.005, false);

    @Override
    public Map<String, String> problems() {
      return new Problems()
          .bits("maxBits", maxBits)
          .check(momentum > 0 && momentum <= 1, "momentum", "must be in (0, 1], got " + momentum)
          .check(threshold >= 0 && threshold <= 1, "threshold", "a frequency: must be in [0, 1], got " + threshold)
          .toMap();
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
   * @param aggregation how each layer's squared distances are reduced
   * @param after fraction of training before which λ stays at {@code weight.at(0)} (§1.6)
   */
  public record Dampening(Schedule weight, Aggregation aggregation, double after) implements Settings {
    /** The reference setting: λ cosine 0 → 0.1 from a quarter of training, kernel-mean aggregation. */
    public static final Dampening DEFAULT = new Dampening(new Schedule.Cosine(0.0, 0.1), Aggregation.KERNEL_MEAN, 0.25);

    /** λ at training progress t. */
    public double weightAt(double progress) {
      return weight.at(active(progress, after));
    }

    @Override
    public Map<String, String> problems() {
      return weightProblems(weight)
          .check(aggregation != null, "aggregation", "must be sum, mean or kernel-mean")
          .check(after >= 0 && after < 1, "after", "must be in [0, 1), got " + after)
          .toMap();
    }
  }

  /**
   * @param threshold frequency threshold as a schedule over the active part of training
   * @param after fraction of training with freezing off (threshold 0)
   * @param useEma frozen value = rounded EMA of the integer since freezing began (else the current integer)
   */
  public record Freezing(Schedule threshold, double after, boolean useEma) implements Settings {
    /** The reference setting: threshold cosine 0.1 → 0.01 from a quarter of training, EMA value. */
    public static final Freezing DEFAULT = new Freezing(new Schedule.Cosine(0.1, 0.01), 0.25, true);

    /** The threshold at training progress t; 0 (off) before {@code after}. */
    public double thresholdAt(double progress) {
      return progress < after ? 0.0 : threshold.at(active(progress, after));
    }

    @Override
    public Map<String, String> problems() {
      return new Problems()
          .check(threshold != null, "threshold", "must be given")
          .nested("threshold", threshold)
          .check(threshold == null || threshold.extremes().stream().allMatch(t -> t > 0 && t <= 1),
              "threshold", "frequencies: must be in (0, 1], got " + (threshold == null ? null : threshold.extremes()))
          .check(after >= 0 && after < 1, "after", "must be in [0, 1), got " + after)
          .toMap();
    }
  }

  /**
   * VVTQ's bin regulariser (algorithms.md §3.3): {@code λ · Σ_layers R} joins the loss.
   *
   * @param weight λ over training; VVTQ: cosine 0 → 0.01 from a quarter of the epochs, evaluated per epoch
   */
  public record BinRegularizer(Schedule weight) implements Settings {
    /** The reference setting: {@code perEpoch(cosine(0, 0.01, delay = 0.25))}. */
    public static final BinRegularizer DEFAULT = new BinRegularizer(new Schedule.PerEpoch(new Schedule.Cosine(0.0, 0.01, 0.25)));

    @Override
    public Map<String, String> problems() {
      return weightProblems(weight).toMap();
    }
  }

  /** A loss weight's problems: it must be given, valid, and finite and non-negative throughout. */
  static Problems weightProblems(Schedule weight) {
    return new Problems()
        .check(weight != null, "weight", "must be given")
        .nested("weight", weight)
        .check(weight == null || weight.extremes().stream().allMatch(w -> Double.isFinite(w) && w >= 0),
            "weight", "must be finite and >= 0, got " + (weight == null ? null : weight.extremes()));
  }

  /** Progress within the part of training that starts at {@code after}, in [0, 1]. */
  static double active(double progress, double after) {
    return progress < after ? 0.0 : Math.min(1.0, (progress - after) / (1.0 - after));
  }
}
