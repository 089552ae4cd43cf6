package dev.kqat.runtime.oscillation;

import dev.kqat.runtime.tf.ParamRole;
import dev.kqat.runtime.tf.ParamStore;
import dev.kqat.runtime.quant.BackwardConvention;
import dev.kqat.runtime.quant.GradientScaling;
import dev.kqat.runtime.quant.Signedness;
import dev.kqat.runtime.quant.FakeQuantKernel;
import dev.kqat.runtime.quant.Quantizer;
import dev.kqat.runtime.quant.QuantizerTarget;
import dev.kqat.runtime.quant.QuantizerSpec;
import dev.kqat.runtime.quant.RangeInit;
import java.util.List;
import org.tensorflow.Graph;
import org.tensorflow.Operand;
import org.tensorflow.Result;
import org.tensorflow.Session;
import org.tensorflow.ndarray.Shape;
import org.tensorflow.op.Op;
import org.tensorflow.op.Ops;
import org.tensorflow.op.core.Placeholder;
import org.tensorflow.op.core.Variable;
import org.tensorflow.types.TFloat32;

/**
 * The toy regression of algorithms.md §1.12 (the paper's §2): one latent weight {@code w} fitted
 * to {@code w*} through a fixed grid, {@code L = ½ (w* − q(w))²} (full batch, E[x²] = 1), plain
 * SGD. Under the straight-through estimator {@code w} cannot settle when {@code w*} lies between
 * grid points: it hovers at the decision threshold and its integer flips. Built from kqat's own
 * quantizer, tracker, dampening loss and freezing, so it shows what they do in a training run.
 *
 * @param target {@code w*}
 * @param gridStep the grid's step size {@code s} (fixed)
 * @param initial the latent weight's starting value
 * @param learningRate SGD learning rate (no momentum)
 * @param steps optimizer steps
 * @param oscillations tracking (always on here), dampening and freezing; schedules run over the steps
 */
public record ToyRegression(double target, double gridStep, double initial, double learningRate, int steps,
    OscillationSpec oscillations) {

  /** Per step, after the update: latent weight, integer used by the forward, frequency, frozen flag. */
  public record Trajectory(float[] latent, float[] integer, float[] frequency, boolean[] frozen) {
    /** Share of steps whose forward used an integer above {@code threshold}. */
    public double shareAbove(double threshold) {
      int n = 0;
      for (float v : integer) {
        n += v > threshold ? 1 : 0;
      }
      return (double) n / integer.length;
    }

    /** Integer changes per step over {@code [from, to)}. */
    public double flipsPerStep(int from, int to) {
      int flips = 0;
      for (int i = Math.max(from, 1); i < to; i++) {
        flips += integer[i] != integer[i - 1] ? 1 : 0;
      }
      return (double) flips / (to - Math.max(from, 1));
    }
  }

  public ToyRegression {
    if (steps < 1) {
      throw new IllegalArgumentException("steps must be >= 1, got " + steps);
    }
    if (!(gridStep > 0)) {
      throw new IllegalArgumentException("the grid step must be > 0, got " + gridStep);
    }
    if (oscillations.tracking() == null) {
      oscillations = new OscillationSpec(OscillationSpec.Tracking.DEFAULT, oscillations.dampening(),
          oscillations.freezing());
    }
  }

  public Trajectory run() {
    try (Graph graph = new Graph(); Session session = new Session(graph)) {
      Ops tf = Ops.create(graph);
      ParamStore params = new ParamStore(tf, 0);
      Shape shape = Shape.of(1);
      Variable<TFloat32> w = params.getOrCreate("toy/latent", shape, ParamRole.WEIGHT,
          s -> params.fill(s, (float) initial));
      // 8-bit signed grid with a fixed step: wide enough never to clip here.
      QuantizerSpec spec = new QuantizerSpec(8, false, BackwardConvention.ROUND_THEN_CLAMP, GradientScaling.OFF,
          RangeInit.MIN_MAX, 1, false, Signedness.SIGNED, false, false);
      Quantizer quantizer = new Quantizer(params, "toy/weight", QuantizerTarget.WEIGHT, spec, Shape.scalar(), FakeQuantKernel.preferred());
      OscillationTracker tracker = new OscillationTracker(params, "toy/weight", shape, oscillations);
      Placeholder<TFloat32> lambda = tf.placeholder(TFloat32.class, Placeholder.shape(Shape.scalar()));
      Placeholder<TFloat32> threshold = tf.placeholder(TFloat32.class, Placeholder.shape(Shape.scalar()));
      Op setStep = tf.assign(quantizer.scale(), tf.constant((float) gridStep));

      Operand<TFloat32> q = tracker.pin(tf, quantizer.apply(tf, w), quantizer.learnedStepSize(tf, w));
      Operand<TFloat32> error = tf.math.sub(tf.constant((float) target), q);
      Operand<TFloat32> task = tf.math.mul(tf.constant(0.5f), tf.reduceSum(tf.math.square(error), tf.constant(0)));
      Operand<TFloat32> loss = oscillations.dampening() == null ? task : tf.math.add(task, tf.math.mul(lambda,
          DampeningLoss.term(tf, quantizer, w, q, 1, oscillations.dampening().aggregation())));
      Operand<TFloat32> grad = tf.gradients(loss, List.of(w)).dy(0);
      Operand<TFloat32> integers = tracker.pinIntegers(tf, quantizer.integers(tf, w));
      List<Op> tracking = tracker.update(tf, integers, oscillations.freezing() == null ? null : threshold, q);
      // The weight moves after the tracker has read it, as in a training step.
      Op step = tf.withControlDependencies(tracking)
          .train.applyGradientDescent(w, tf.constant((float) learningRate), grad);
      Variable<TFloat32> frequency = params.get("toy/weight/oscillation/frequency").variable();
      Operand<TFloat32> frozen = oscillations.freezing() == null ? tf.zerosLike(frequency)
          : params.get("toy/weight/oscillation/frozen").variable();

      session.initialize();
      session.runner().addTarget(setStep).run();
      float[] latent = new float[steps];
      float[] integer = new float[steps];
      float[] freq = new float[steps];
      boolean[] isFrozen = new boolean[steps];
      for (int t = 0; t < steps; t++) {
        double progress = (double) t / steps;
        float lam = oscillations.dampening() == null ? 0f : (float) oscillations.dampening().weightAt(progress);
        float thr = oscillations.freezing() == null ? 0f : (float) oscillations.freezing().thresholdAt(progress);
        try (TFloat32 l = TFloat32.scalarOf(lam); TFloat32 th = TFloat32.scalarOf(thr);
            Result r = session.runner().feed(lambda, l).feed(threshold, th)
                .addTarget(step).fetch(integers).run()) {
          integer[t] = ((TFloat32) r.get(0)).getFloat(0);
        }
        try (Result r = session.runner().fetch(w).fetch(frequency).fetch(frozen).run()) {
          latent[t] = ((TFloat32) r.get(0)).getFloat(0);
          freq[t] = ((TFloat32) r.get(1)).getFloat(0);
          isFrozen[t] = ((TFloat32) r.get(2)).getFloat(0) > 0.5f;
        }
      }
      return new Trajectory(latent, integer, freq, isFrozen);
    }
  }
}
