package dev.kqat.runtime.quant;

/**
 * Per-layer exception to a standard policy; {@code null} fields keep the policy's choice.
 *
 * @param weightBits kernel bits, or null
 * @param inputBits input activation bits, or null
 * @param floatingPoint keep the layer entirely in floating point
 */
public record LayerOverride(Integer weightBits, Integer inputBits, boolean floatingPoint) {}
