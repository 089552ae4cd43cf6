package dev.kqat.runtime.train;

import dev.kqat.runtime.models.Model;
import dev.kqat.runtime.oscillation.OscillationSpec;
import dev.kqat.runtime.quant.FakeQuantKernel;
import dev.kqat.runtime.quant.QuantPolicy;

/**
 * What a training graph is built from.
 *
 * @param model network definition
 * @param policy quantization policy ({@link QuantPolicy#FLOAT} for FP32 training)
 * @param weights optimizer of the network weights
 * @param quantizers optimizer of the quantizer step sizes (ignored when there are none)
 * @param labelSmoothing label smoothing of the cross-entropy, 0 for none
 * @param seed seed of weight initialisation and data order
 * @param oscillations oscillation tracking, dampening and freezing of the quantized weights
 * @param kernel what computes fake quantization (same values either way)
 */
public record TrainingSetup(
    Model model,
    QuantPolicy policy,
    OptimizerConfig weights,
    OptimizerConfig quantizers,
    double labelSmoothing,
    long seed,
    OscillationSpec oscillations,
    FakeQuantKernel kernel) {

  /**
   * A setup without oscillation control, with the {@linkplain FakeQuantKernel#preferred()
   * preferred} fake-quant kernel.
   */
  public TrainingSetup(Model model, QuantPolicy policy, OptimizerConfig weights, OptimizerConfig quantizers,
      double labelSmoothing, long seed) {
    this(model, policy, weights, quantizers, labelSmoothing, seed, OscillationSpec.NONE,
        FakeQuantKernel.preferred());
  }

  public TrainingSetup withOscillations(OscillationSpec spec) {
    return new TrainingSetup(model, policy, weights, quantizers, labelSmoothing, seed, spec, kernel);
  }

  public TrainingSetup withKernel(FakeQuantKernel k) {
    return new TrainingSetup(model, policy, weights, quantizers, labelSmoothing, seed, oscillations, k);
  }
}
