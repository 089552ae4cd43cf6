package dev.kqat.runtime.models;

import java.util.Map;

/**
 * A model with a Keras counterpart whose {@code .h5} weights it can start from. Variables follow
 * Keras' own naming ({@code kernel}, {@code depthwise_kernel}, {@code bias}, {@code gamma},
 * {@code beta}, {@code moving_mean}, {@code moving_variance}); only the layer names differ.
 */
public interface KerasLayout {
  /** Keras layer name to this model's layer name, for every layer that holds weights. */
  Map<String, String> kerasLayerNames();
}
