package dev.kqat.runtime.nn;

import dev.kqat.runtime.quant.Quantizer;
import org.tensorflow.Operand;
import org.tensorflow.ndarray.Shape;
import org.tensorflow.types.TFloat32;

/**
 * What the graph does around each fake quantizer, supplied from outside the layers (architecture.md:
 * oscillation tracking, freezing and dampening today; regularisers and multi-bit selection next).
 * A hook sees the quantizer, its input and its fake-quantized value in one pass; it returns the value
 * the layer uses and may add ops that must run with the pass ({@link NetContext#addPassUpdate}).
 */
public interface QuantHooks {
  /** No hook: the fake-quantized values are used as they are. */
  QuantHooks NONE = new QuantHooks() {};

  /**
   * A quantized weight.
   *
   * @param pass the forward pass being built
   * @param kernel the latent (float) kernel
   * @param quantized its fake-quantized value
   * @param channelShape the kernel's output-channel dims (per-channel step sizes span them)
   */
  record WeightSite(NetContext pass, Quantizer quantizer, Operand<TFloat32> kernel, Operand<TFloat32> quantized,
      Shape channelShape) {}

  /** A quantized layer input. */
  record ActivationSite(NetContext pass, Quantizer quantizer, Operand<TFloat32> input, Operand<TFloat32> quantized) {}

  default Operand<TFloat32> weight(WeightSite site) {
    return site.quantized();
  }

  default Operand<TFloat32> activation(ActivationSite site) {
    return site.quantized();
  }
}
