package dev.kqat.runtime.quant;

import dev.kqat.runtime.settings.Settings;
import java.util.Map;

/**
 * Per-layer exception to a standard policy; {@code null} fields keep the policy's choice.
 *
 * @param weightBits kernel bits, or null
 * @param inputBits input activation bits, or null
 * @param floatingPoint keep the layer entirely in floating point
 */
public record LayerOverride(Integer weightBits, Integer inputBits, boolean floatingPoint) implements Settings {
  /** No exception. */
  public static final LayerOverride DEFAULT = new LayerOverride(null, null, false);

  @Override
  public Map<String, String> problems() {
    return new Problems().bits("weightBits", weightBits).bits("inputBits", inputBits).toMap();
  }
}
