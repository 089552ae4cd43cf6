package dev.kqat.runtime.quant;

import dev.kqat.runtime.settings.Settings;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * The OSC {@code LSQ_paper} setup (algorithms.md §1.3): every weight layer quantizes its kernel
 * and its input; the first layer keeps its kernel at {@code firstLastBits} and the network input
 * (the image) in floating point; the last layer keeps kernel and input at {@code firstLastBits}.
 * Block outputs and residual sums are covered by the next layer's input quantizer. Named
 * overrides win over all of this.
 *
 * @param weights kernel quantizer for inner layers (null: weights stay FP)
 * @param activations input quantizer for inner layers (null: activations stay FP)
 * @param firstLastBits bits of the first and last layers
 * @param layers exact layer name to override
 * @param calibrationBatches training batches that initialise the quantizers' ranges
 */
public record InputQuantPolicy(
    QuantizerSpec weights,
    QuantizerSpec activations,
    int firstLastBits,
    Map<String, LayerOverride> layers,
    int calibrationBatches)
    implements QuantPolicy, Settings {

  /** W4A4 LSQ, first and last layers at 8 bits, one calibration batch. */
  public static final InputQuantPolicy DEFAULT =
      new InputQuantPolicy(QuantizerSpec.DEFAULT, QuantizerSpec.DEFAULT, 8, Map.of(), 1);

  public InputQuantPolicy {
    // Kept in declaration order, so experiment.json lists the overrides as the script wrote them.
    layers = Collections.unmodifiableMap(new LinkedHashMap<>(layers));
  }

  @Override
  public LayerQuant decide(LayerInfo layer) {
    QuantizerSpec w = weights;
    QuantizerSpec a = activations;
    if (layer.isFirst() || layer.isLast()) {
      w = w == null ? null : w.withBits(firstLastBits);
      a = a == null ? null : a.withBits(firstLastBits);
    }
    if (layer.isFirst()) {
      a = null;
    }
    LayerOverride o = layers.get(layer.name());
    if (o != null) {
      if (o.floatingPoint()) {
        return LayerQuant.FLOAT;
      }
      if (o.weightBits() != null && w != null) {
        w = w.withBits(o.weightBits());
      }
      if (o.inputBits() != null && a != null) {
        a = a.withBits(o.inputBits());
      }
    }
    return new LayerQuant(w, a);
  }

  /** Bounds only; whether each overridden layer exists depends on the model. */
  @Override
  public Map<String, String> problems() {
    Problems p = new Problems()
        .nested("weights", weights)
        .nested("activations", activations)
        .check(activations == null || !activations.perChannel(), "activations.perChannel",
            "activations are quantized per tensor")
        .bits("firstLastBits", firstLastBits)
        .check(calibrationBatches >= 1, "calibrationBatches", "must be >= 1, got " + calibrationBatches);
    layers.forEach((name, o) -> p.nested("layers[" + name + "]", o));
    return p.toMap();
  }
}
