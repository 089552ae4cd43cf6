package dev.kqat.runtime.schedule;

/**
 * A value as a function of training progress {@code t = step / totalSteps} in [0, 1]
 * (architecture.md rule 4). Learning rates, dampening weights and thresholds all use it.
 */
public sealed interface Schedule
    permits Schedule.Constant, Schedule.Linear, Schedule.Cosine, Schedule.Step, Schedule.Warmup,
        Schedule.PerEpoch {

  double at(double progress);

  /** The same value throughout. */
  record Constant(double value) implements Schedule {
    @Override
    public double at(double progress) {
      return value;
    }
  }

  /** Straight line from {@code start} (t = 0) to {@code end} (t = 1). */
  record Linear(double start, double end) implements Schedule {
    @Override
    public double at(double progress) {
      double t = clamp(progress);
      return start + (end - start) * t;
    }
  }

  /**
   * Cosine from {@code start} to {@code end}, held at {@code start} until {@code delay}
   * (algorithms.md §1.6: {@code v = end + (start-end)/2 * (1 + cos(pi (t-t0)/(1-t0)))}).
   */
  record Cosine(double start, double end, double delay) implements Schedule {
    public Cosine {
      if (delay < 0 || delay >= 1) {
        throw new IllegalArgumentException("cosine delay must be in [0, 1), got " + delay);
      }
    }

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
  }

  /** {@code initial * factor^k} where k counts the milestones (fractions of training) passed. */
  record Step(double initial, double factor, double[] milestones) implements Schedule {
    public Step {
      milestones = milestones.clone();
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
  }

  /** Linear ramp from 0 over the first {@code fraction} of training, then {@code after}. */
  record Warmup(double fraction, Schedule after) implements Schedule {
    public Warmup {
      if (fraction < 0 || fraction >= 1) {
        throw new IllegalArgumentException("warm-up fraction must be in [0, 1), got " + fraction);
      }
    }

    @Override
    public double at(double progress) {
      if (progress < fraction) {
        return after.at(fraction) * progress / fraction;
      }
      return after.at(progress);
    }
  }

  /**
   * {@code inner} evaluated at the start of the current epoch: constant within an epoch, as
   * PyTorch schedulers stepped once per epoch.
   */
  record PerEpoch(Schedule inner, int epochs) implements Schedule {
    public PerEpoch {
      if (epochs < 1) {
        throw new IllegalArgumentException("epochs must be >= 1, got " + epochs);
      }
    }

    @Override
    public double at(double progress) {
      // The epsilon keeps step e·S/(E·S) from rounding into the previous epoch.
      double epoch = Math.floor(clamp(progress) * epochs + 1e-9);
      return inner.at(Math.min(epoch, epochs - 1) / epochs);
    }
  }

  private static double clamp(double t) {
    return Math.max(0.0, Math.min(1.0, t));
  }
}
