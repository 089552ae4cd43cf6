package dev.kqat.runtime.train;

import dev.kqat.runtime.distill.Distillation;
import dev.kqat.runtime.models.Model;
import dev.kqat.runtime.oscillation.OscillationSpec;
import dev.kqat.runtime.quant.FakeQuantKernel;
import dev.kqat.runtime.quant.QuantPolicy;
import dev.kqat.runtime.tf.DeviceSetting;

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
 * @param kernel what computes fake quantization (same values either way); on a GPU the graph uses
 *     {@link FakeQuantKernel#TF_OPS} ({@link FakeQuantKernel#on})
 * @param device where the graph's ops run and the session's thread counts
 * @param distillation an online teacher whose soft labels replace the cross-entropy, or null
 */
public record TrainingSetup(
    Model model,
    QuantPolicy policy,
    OptimizerConfig weights,
    OptimizerConfig quantizers,
    double labelSmoothing,
    long seed,
    OscillationSpec oscillations,
    FakeQuantKernel kernel,
    DeviceSetting device,
    Distillation distillation) {

  /**
   * A setup without oscillation control, with the {@linkplain FakeQuantKernel#preferred()
   * preferred} fake-quant kernel, on the CPU.
   */
  public TrainingSetup(Model model, QuantPolicy policy, OptimizerConfig weights, OptimizerConfig quantizers,
      double labelSmoothing, long seed) {
    this(model, policy, weights, quantizers, labelSmoothing, seed, OscillationSpec.NONE,
        FakeQuantKernel.preferred(), DeviceSetting.DEFAULT, null);
  }

  public TrainingSetup withOscillations(OscillationSpec spec) {
    return new TrainingSetup(model, policy, weights, quantizers, labelSmoothing, seed, spec, kernel, device, distillation);
  }

  public TrainingSetup withKernel(FakeQuantKernel k) {
    return new TrainingSetup(model, policy, weights, quantizers, labelSmoothing, seed, oscillations, k, device, distillation);
  }

  public TrainingSetup withDevice(DeviceSetting d) {
    return new TrainingSetup(model, policy, weights, quantizers, labelSmoothing, seed, oscillations, kernel, d, distillation);
  }

  public TrainingSetup withDistillation(Distillation d) {
    return new TrainingSetup(model, policy, weights, quantizers, labelSmoothing, seed, oscillations, kernel, device, d);
  }
}
