package dev.kqat.runtime.nn;

import dev.kqat.runtime.oscillation.OscillationSpec;
import dev.kqat.runtime.oscillation.OscillationTracker;
import dev.kqat.runtime.quant.FakeQuantKernel;
import dev.kqat.runtime.quant.LayerQuant;
import dev.kqat.runtime.quant.QuantPolicy;
import dev.kqat.runtime.quant.Quantizer;
import dev.kqat.runtime.quant.QuantizerSpec;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.tensorflow.ndarray.Shape;
import org.tensorflow.op.core.Placeholder;
import org.tensorflow.types.TFloat32;

/**
 * What the train and eval forward passes of one graph share: variables, the per-layer
 * quantization plan, the quantizers built from it, the oscillation trackers of their weights and
 * the per-step schedule values oscillation control is fed.
 */
public final class ModelState {
  private final ParamStore params;
  private final QuantPolicy policy;
  private final FakeQuantKernel kernel;
  private final OscillationSpec oscillations;
  private final Map<String, LayerInfo> layers;
  private final Map<String, Quantizer> quantizers = new LinkedHashMap<>();
  private final Map<String, OscillationTracker> trackers = new LinkedHashMap<>();
  private final Placeholder<TFloat32> dampeningWeight;
  private final Placeholder<TFloat32> freezingThreshold;

  /**
   * @param layers the model's weight layers in forward order (from {@link ModelInspector})
   * @param kernel what computes the quantizers' fake quantization
   * @param oscillations oscillation control of the quantized weights
   */
  public ModelState(ParamStore params, QuantPolicy policy, List<LayerInfo> layers, FakeQuantKernel kernel,
      OscillationSpec oscillations) {
    this.params = params;
    this.policy = policy;
    this.kernel = kernel;
    this.oscillations = oscillations;
    this.dampeningWeight = oscillations.dampening() == null ? null : scalarFeed("dampening_weight");
    this.freezingThreshold = oscillations.freezing() == null ? null : scalarFeed("freezing_threshold");
    this.layers = new LinkedHashMap<>();
    for (LayerInfo l : layers) {
      this.layers.put(l.name(), l);
    }
  }

  public ParamStore params() {
    return params;
  }

  LayerQuant planFor(String layerName) {
    LayerInfo info = layers.get(layerName);
    if (info == null) {
      // Discovery passes build with an empty layer list; they never quantize.
      return LayerQuant.FLOAT;
    }
    return policy.decide(info);
  }

  Quantizer quantizer(String name, QuantizerSpec spec, Shape scaleShape) {
    return quantizers.computeIfAbsent(name, n -> new Quantizer(params, n, spec, scaleShape, kernel));
  }

  /**
   * The tracker of a weight quantizer's integers, created on first use; null when the weight is
   * not tracked (tracking off, or more bits than the tracking limit).
   */
  OscillationTracker tracker(Quantizer quantizer, Shape weightShape) {
    if (!oscillations.tracks() || quantizer.spec().bits() > oscillations.tracking().maxBits()) {
      return null;
    }
    return trackers.computeIfAbsent(quantizer.name(),
        n -> new OscillationTracker(params, n, weightShape, oscillations));
  }

  public OscillationSpec oscillations() {
    return oscillations;
  }

  /** Trackers in creation (forward) order. */
  public List<OscillationTracker> trackers() {
    return List.copyOf(trackers.values());
  }

  /** λ of the dampening loss for this step; null without dampening. */
  public Placeholder<TFloat32> dampeningWeight() {
    return dampeningWeight;
  }

  /** The freezing threshold for this step (0: off); null without freezing. */
  public Placeholder<TFloat32> freezingThreshold() {
    return freezingThreshold;
  }

  private Placeholder<TFloat32> scalarFeed(String name) {
    return params.tf().withName(name).placeholder(TFloat32.class, Placeholder.shape(Shape.scalar()));
  }

  /** Quantizers in creation (forward) order. */
  public List<Quantizer> quantizers() {
    return Collections.unmodifiableList(new ArrayList<>(quantizers.values()));
  }
}
