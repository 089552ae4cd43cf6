package dev.kqat.runtime.train;

import dev.kqat.runtime.schedule.Schedule;

/**
 * One parameter group's optimizer.
 *
 * @param kind SGD (with momentum) or Adam
 * @param learningRate learning-rate schedule over the phase
 * @param momentum SGD momentum (PyTorch convention, no dampening)
 * @param nesterov Nesterov momentum for SGD
 * @param weightDecay L2 term added to the gradient (PyTorch {@code weight_decay})
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
    double epsilon) {

  public enum Kind {
    SGD,
    ADAM
  }

  public static OptimizerConfig sgd(Schedule lr, double momentum, double weightDecay) {
    return new OptimizerConfig(Kind.SGD, lr, momentum, false, weightDecay, 0.9, 0.999, 1e-8);
  }

  public static OptimizerConfig adam(Schedule lr, double weightDecay) {
    return new OptimizerConfig(Kind.ADAM, lr, 0.0, false, weightDecay, 0.9, 0.999, 1e-8);
  }
}
