package dev.kqat.runtime.nn;

import dev.kqat.runtime.quant.ActivationPoint;
import dev.kqat.runtime.quant.BitRange;
import dev.kqat.runtime.quant.FakeQuantKernel;
import dev.kqat.runtime.quant.LayerInfo;
import dev.kqat.runtime.quant.LayerQuant;
import dev.kqat.runtime.quant.QuantPolicy;
import dev.kqat.runtime.quant.Quantizer;
import dev.kqat.runtime.quant.QuantizerSpec;
import dev.kqat.runtime.quant.QuantizerTarget;
import dev.kqat.runtime.tf.ParamStore;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.tensorflow.ndarray.Shape;

/**
 * What the train, eval and BN-statistics passes of one graph share: variables, the per-layer
 * quantization plan, the quantizers built from it and the hooks applied around them.
 */
public final class ModelState {
  private final ParamStore params;
  private final QuantPolicy policy;
  private final FakeQuantKernel kernel;
  private final QuantHooks hooks;
  private final Map<String, LayerInfo> layers;
  private final Map<String, Quantizer> quantizers = new LinkedHashMap<>();

  /**
   * @param layers the model's weight layers in forward order (from {@code ModelInspector})
   * @param kernel what computes the quantizers' fake quantization
   * @param hooks what runs around each quantizer (e.g. oscillation control)
   */
  public ModelState(ParamStore params, QuantPolicy policy, List<LayerInfo> layers, FakeQuantKernel kernel,
      QuantHooks hooks) {
    this.params = params;
    this.policy = policy;
    this.kernel = kernel;
    this.hooks = hooks;
    this.layers = new LinkedHashMap<>();
    for (LayerInfo l : layers) {
      this.layers.put(l.name(), l);
    }
  }

  public ParamStore params() {
    return params;
  }

  QuantHooks hooks() {
    return hooks;
  }

  LayerQuant planFor(String layerName) {
    LayerInfo info = layers.get(layerName);
    if (info == null) {
      // Discovery passes build with an empty layer list; they never quantize.
      return LayerQuant.FLOAT;
    }
    return policy.decide(info);
  }

  /** The bit-widths a supernet layer switches between, or null for fixed bits (and in discovery passes). */
  BitRange candidatesFor(String layerName) {
    LayerInfo info = layers.get(layerName);
    return info == null ? null : policy.candidates(info);
  }

  /** The policy's quantizer for an activation point, or null (always null in discovery passes). */
  QuantizerSpec planFor(ActivationPoint point, String name) {
    return layers.isEmpty() ? null : policy.decide(point, name);
  }

  Quantizer quantizer(String name, QuantizerTarget target, QuantizerSpec spec, Shape scaleShape) {
    return quantizers.computeIfAbsent(name, n -> new Quantizer(params, n, target, spec, scaleShape, kernel));
  }

  /** Quantizers in creation (forward) order. */
  public List<Quantizer> quantizers() {
    return Collections.unmodifiableList(new ArrayList<>(quantizers.values()));
  }
}
