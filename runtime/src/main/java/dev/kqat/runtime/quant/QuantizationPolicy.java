package dev.kqat.runtime.quant;

import dev.kqat.runtime.settings.Settings;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * The quantization of a network: one weight and one activation quantizer setting, placed by a
 * {@link QuantMap}, with first and last layers at {@code firstLastBits} and named per-layer
 * overrides that win over all of this.
 *
 * <p>{@link QuantMap#LAYER_INPUTS} (OSC's {@code LSQ_paper}, algorithms.md §1.3): every weight layer
 * quantizes its kernel and its input; the first layer keeps the network input (the image) in
 * floating point. {@link QuantMap#VVTQ} (§3.2): inner weight layers quantize their kernels only and
 * the activations are quantized at the model's {@link ActivationPoint}s, each with the signedness and
 * offset the map gives it; the head's input at {@code firstLastBits}; the patch embedding's image
 * input at {@code firstLastBits} where the model marks it (DeiT; the reference's Swin does not apply
 * it); Swin's patch-merging reduction ({@code …/reduction}) keeps its kernel at {@code firstLastBits}
 * and its input in floating point.
 *
 * @param weights kernel quantizer for inner layers (null: weights stay FP)
 * @param activations activation quantizer for inner layers and points (null: activations stay FP)
 * @param firstLastBits bits of the first and last layers
 * @param layers exact layer name to override
 * @param calibrationBatches training batches that initialise the quantizers' ranges
 * @param map where the activation quantizers sit
 * @param calibrationImages images per calibration batch (VVTQ: 64); 0: the phase's batch size
 */
public record QuantizationPolicy(
    QuantizerSpec weights,
    QuantizerSpec activations,
    int firstLastBits,
    Map<String, LayerOverride> layers,
    int calibrationBatches,
    QuantMap map,
    int calibrationImages)
    implements QuantPolicy, Settings {

  /** W4A4 LSQ, first and last layers at 8 bits, one calibration batch. */
  public static final QuantizationPolicy DEFAULT =
      new QuantizationPolicy(QuantizerSpec.DEFAULT, QuantizerSpec.DEFAULT, 8, Map.of(), 1);

  /** The VVTQ reference images for activation init (§3.1). */
  public static final int VVTQ_CALIBRATION_IMAGES = 64;

  public QuantizationPolicy {
    // Kept in declaration order, so experiment.json lists the overrides as the script wrote them.
    layers = Collections.unmodifiableMap(new LinkedHashMap<>(layers));
  }

  /** Layer-input quantization ({@link QuantMap#LAYER_INPUTS}), calibrated on whole batches. */
  public QuantizationPolicy(QuantizerSpec weights, QuantizerSpec activations, int firstLastBits,
      Map<String, LayerOverride> layers, int calibrationBatches) {
    this(weights, activations, firstLastBits, layers, calibrationBatches, QuantMap.LAYER_INPUTS, 0);
  }

  /** VVTQ's map and quantizers (§3.1–3.2) at these bits, 8-bit ends, activations initialised on 64 images. */
  public static QuantizationPolicy vvtq(int weightBits, int activationBits) {
    return new QuantizationPolicy(QuantizerSpec.vvtqWeights(weightBits), QuantizerSpec.vvtqActivations(activationBits),
        8, Map.of(), 1, QuantMap.VVTQ, VVTQ_CALIBRATION_IMAGES);
  }

  @Override
  public LayerQuant decide(LayerInfo layer) {
    QuantizerSpec w = weights;
    QuantizerSpec a = activations;
    boolean vvtq = map == QuantMap.VVTQ;
    boolean patchMerging = vvtq && layer.kind() == LayerKind.PATCH_MERGING;
    if (layer.isFirst() || layer.isLast() || patchMerging) {
      w = w == null ? null : w.withBits(firstLastBits);
      a = a == null ? null : a.withBits(firstLastBits);
    }
    if (layer.isFirst() || (vvtq && !layer.isLast())) {
      a = null;
    }
    if (vvtq && a != null) {
      a = a.withSignedness(Signedness.SIGNED);
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

  @Override
  public QuantizerSpec decide(ActivationPoint point, String name) {
    if (map != QuantMap.VVTQ || activations == null) {
      return null;
    }
    return switch (point) {
      case PATCH_INPUT -> activations.withBits(firstLastBits).withSignedness(Signedness.SIGNED);
      case ATTENTION_INPUT, QUERY, KEY, VALUE, ATTENTION_OUTPUT, MLP_INPUT -> activations.withSignedness(Signedness.SIGNED);
      case ATTENTION_PROBABILITIES -> activations.withSignedness(Signedness.UNSIGNED).withOffset(false);
      case MLP_HIDDEN -> activations.withSignedness(Signedness.UNSIGNED).withOffset(true);
    };
  }

  @Override
  public int calibrationImages() {
    return calibrationImages;
  }

  /** Bounds only; whether each overridden layer exists depends on the model. */
  @Override
  public Map<String, String> problems() {
    Problems p = new Problems()
        .nested("weights", weights)
        .nested("activations", activations)
        .check(activations == null || !activations.perChannel(), "activations.perChannel",
            "activations are quantized per tensor")
        .check(weights == null || !weights.offset(), "weights.offset", "an offset (LSQ+) is for activations only")
        .bits("firstLastBits", firstLastBits)
        .check(calibrationBatches >= 1, "calibrationBatches", "must be >= 1, got " + calibrationBatches)
        .check(map != null, "map", "must be layer-inputs or vvtq")
        .check(calibrationImages >= 0, "calibrationImages",
            "must be >= 1 (or 0: the batch size), got " + calibrationImages);
    layers.forEach((name, o) -> p.nested("layers[" + name + "]", o));
    return p.toMap();
  }
}
