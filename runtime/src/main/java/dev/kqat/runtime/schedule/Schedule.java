package dev.kqat.runtime.schedule;

import dev.kqat.runtime.settings.Settings;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * A value as a function of training progress {@code t = step / totalSteps} in [0, 1]
 * (architecture.md rule 4). Learning rates, dampening weights and thresholds all use it.
 *
 * <p>The records accept any value; {@link #problems()} names the bad ones and {@link #at} of a
 * schedule with problems is undefined. A {@link PerEpoch} schedule declared without an epoch count
 * takes its phase's through {@link #forEpochs}.
 */
public sealed interface Schedule extends Settings
    permits Schedule.Constant, Schedule.Linear, Schedule.Cosine, Schedule.Step, Schedule.Warmup,
        Schedule.PerEpoch {

  double at(double progress);

  /**
   * Every value this schedule can produce lies between these (all shapes are monotone between
   * them), for bounds checks without sampling.
   */
  List<Double> extremes();

  /** This schedule in a phase of {@code epochs} epochs: per-epoch parts without a count take it. */
  default Schedule forEpochs(int epochs) {
    return this;
  }

  @Override
  default Map<String, String> problems() {
    return Map.of();
  }

  /** The same value throughout. */
  record Constant(double value) implements Schedule {
    @Override
    public double at(double progress) {
      return value;
    }

    @Override
    public List<Double> extremes() {
      return List.of(value);
    }
  }

  /** Straight line from {@code start} (t = 0) to {@code end} (t = 1). */
  record Linear(double start, double end) implements Schedule {
    @Override
    public double at(double progress) {
      double t = clamp(progress);
      return start + (end - start) * t;
    }

    @Override
    public List<Double> extremes() {
      return List.of(start, end);
    }
  }

  /**
   * Cosine from {@code start} to {@code end}, held at {@code start} until {@code delay}
   * (algorithms.md §1.6: {@code v = end + (start-end)/2 * (1 + cos(pi (t-t0)/(1-t0)))}).
   */
  record Cosine(double start, double end, double delay) implements Schedule {
    public Cosine(double start, double end) {
      this(start, end, 0.0);
    }

    @Override
    public double at(double progress) {
      double t = clamp(progress);
      if (t < delay) {
        return start;
      }
      double r = (t - delay) / (1 - delay);
      return end + 0.5 * (start - end) * (1 + Math.cos(Math.PI * r));
    }

    @Override
    public List<Double> extremes() {
      return List.of(start, end);
    }

    @Override
    public Map<String, String> problems() {
      return new Problems().check(delay >= 0 && delay < 1, "delay", "must be in [0, 1), got " + delay).toMap();
    }
  }

  /** {@code initial * factor^k} where k counts the milestones (fractions of training) passed. */
  record Step(double initial, double factor, List<Double> milestones) implements Schedule {
    public Step {
      milestones = List.copyOf(milestones);
    }

    @Override
    public double at(double progress) {
      double v = initial;
      for (double m : milestones) {
        if (progress >= m) {
          v *= factor;
        }
      }
      return v;
    }

    @Override
    public List<Double> extremes() {
      List<Double> out = new ArrayList<>(List.of(initial));
      for (int k = 1; k <= milestones.size(); k++) {
        out.add(initial * Math.pow(factor, k));
      }
      return out;
    }

    @Override
    public Map<String, String> problems() {
      return new Problems().check(milestones.stream().allMatch(m -> m >= 0 && m <= 1), "milestones",
          "fractions of training: must be in [0, 1], got " + milestones).toMap();
    }
  }

  /** Linear ramp from 0 over the first {@code fraction} of training, then {@code after}. */
  record Warmup(double fraction, Schedule after) implements Schedule {
    @Override
    public double at(double progress) {
      if (progress < fraction) {
        return after.at(fraction) * progress / fraction;
      }
      return after.at(progress);
    }

    @Override
    public List<Double> extremes() {
      List<Double> out = new ArrayList<>(List.of(0.0));
      out.addAll(after.extremes());
      return out;
    }

    @Override
    public Schedule forEpochs(int epochs) {
      return new Warmup(fraction, after.forEpochs(epochs));
    }

    @Override
    public Map<String, String> problems() {
      return new Problems()
          .check(fraction >= 0 && fraction < 1, "fraction", "must be in [0, 1), got " + fraction)
          .nested("after", after)
          .toMap();
    }
  }

  /**
   * {@code schedule} evaluated at the start of the current epoch: constant within an epoch, as
   * PyTorch schedulers stepped once per epoch. {@code epochs} null: the phase's epoch count, set by
   * {@link #forEpochs}.
   */
  record PerEpoch(Schedule schedule, Integer epochs) implements Schedule {
    public PerEpoch(Schedule schedule) {
      this(schedule, null);
    }

    @Override
    public double at(double progress) {
      if (epochs == null) {
        throw new IllegalStateException("a per-epoch schedule needs its phase's epoch count (forEpochs)");
      }
      // The epsilon keeps step e·S/(E·S) from rounding into the previous epoch.
      double epoch = Math.floor(clamp(progress) * epochs + 1e-9);
      return schedule.at(Math.min(epoch, epochs - 1) / epochs);
    }

    @Override
    public List<Double> extremes() {
      return schedule.extremes();
    }

    @Override
    public Schedule forEpochs(int phaseEpochs) {
      return new PerEpoch(schedule.forEpochs(phaseEpochs), epochs == null ? phaseEpochs : epochs);
    }

    @Override
    public Map<String, String> problems() {
      return new Problems()
          .check(epochs == null || epochs >= 1, "epochs", "must be >= 1 (or absent: the phase's), got " + epochs)
          .nested("schedule", schedule)
          .toMap();
    }
  }

  private static double clamp(double t) {
    return Math.max(0.0, Math.min(1.0, t));
  }
}
