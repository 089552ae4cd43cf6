package dev.kqat.runtime.train;

import dev.kqat.runtime.schedule.Schedule;
import dev.kqat.runtime.settings.Settings;
import java.util.Map;

/**
 * One parameter group's optimizer.
 *
 * @param kind SGD (with momentum), Adam, or AdamW (decoupled weight decay)
 * @param learningRate learning-rate schedule over the phase
 * @param momentum SGD momentum (PyTorch convention, no dampening)
 * @param nesterov Nesterov momentum for SGD
 * @param weightDecay SGD and Adam: L2 term added to the gradient (PyTorch {@code weight_decay});
 *     AdamW: decoupled decay {@code w *= 1 - lr·wd} of the weights of two or more dimensions
 * @param beta1 Adam first-moment decay
 * @param beta2 Adam second-moment decay
 * @param epsilon Adam epsilon
 */
public record OptimizerConfig(
    Kind kind,
    Schedule learningRate,
    double momentum,
    boolean nesterov,
    double weightDecay,
    double beta1,
    double beta2,
    double epsilon) implements Settings {

  public enum Kind {
    SGD,
    ADAM,
    ADAMW
  }

  /** The network weights' default: SGD, constant 0.01, momentum 0.9, no weight decay. */
  public static final OptimizerConfig DEFAULT = sgd(new Schedule.Constant(0.01), 0.9, 0.0);

  /** The quantizer step sizes' default: Adam, constant 1e-5, no weight decay. */
  public static final OptimizerConfig QUANTIZER_DEFAULT = adam(new Schedule.Constant(1e-5), 0.0);

  public static OptimizerConfig sgd(Schedule lr, double momentum, double weightDecay) {
    return sgd(lr, momentum, weightDecay, false);
  }

  public static OptimizerConfig sgd(Schedule lr, double momentum, double weightDecay, boolean nesterov) {
    return new OptimizerConfig(Kind.SGD, lr, momentum, nesterov, weightDecay, 0.9, 0.999, 1e-8);
  }

  public static OptimizerConfig adam(Schedule lr, double weightDecay) {
    return new OptimizerConfig(Kind.ADAM, lr, 0.0, false, weightDecay, 0.9, 0.999, 1e-8);
  }

  /**
   * AdamW (timm's and PyTorch's): β 0.9/0.999, ε 1e-8, decoupled weight decay on weights of two or
   * more dimensions, never on biases, normalisation parameters, a transformer's class token and
   * position embedding, or quantizer parameters.
   */
  public static OptimizerConfig adamW(Schedule lr, double weightDecay) {
    return new OptimizerConfig(Kind.ADAMW, lr, 0.0, false, weightDecay, 0.9, 0.999, 1e-8);
  }

  public OptimizerConfig withWeightDecay(double decay) {
    return new OptimizerConfig(kind, learningRate, momentum, nesterov, decay, beta1, beta2, epsilon);
  }

  /** This optimizer in a phase of {@code epochs} epochs (per-epoch learning rates take the count). */
  public OptimizerConfig forEpochs(int epochs) {
    return new OptimizerConfig(kind, learningRate.forEpochs(epochs), momentum, nesterov, weightDecay, beta1, beta2, epsilon);
  }

  @Override
  public Map<String, String> problems() {
    return new Problems()
        .check(kind != null, "kind", "must be sgd, adam or adamw")
        .check(learningRate != null, "learningRate", "must be given")
        .nested("learningRate", learningRate)
        .check(learningRate == null || learningRate.extremes().stream().allMatch(r -> Double.isFinite(r) && r >= 0),
            "learningRate", "must be finite and >= 0, got " + (learningRate == null ? null : learningRate.extremes()))
        .check(momentum >= 0 && momentum < 1, "momentum", "must be in [0, 1), got " + momentum)
        .check(weightDecay >= 0, "weightDecay", "must be >= 0, got " + weightDecay)
        .check(beta1 >= 0 && beta1 < 1, "beta1", "must be in [0, 1), got " + beta1)
        .check(beta2 >= 0 && beta2 < 1, "beta2", "must be in [0, 1), got " + beta2)
        .check(epsilon > 0, "epsilon", "must be > 0, got " + epsilon)
        .toMap();
  }
}
